import { writeFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";

export interface AdminCredentials {
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export const testContextName = "apicache-test";

const b64 = (text: string): string => Buffer.from(text).toString("base64");

/** A self-contained kubeconfig (certificates embedded) for the test cluster's admin. */
export function renderKubeconfig(credentials: AdminCredentials): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: testContextName,
        cluster: { server: credentials.server, "certificate-authority-data": b64(credentials.caPem) },
      },
    ],
    users: [
      {
        name: "apicache-test-admin",
        user: {
          "client-certificate-data": b64(credentials.certPem),
          "client-key-data": b64(credentials.keyPem),
        },
      },
    ],
    contexts: [{ name: testContextName, context: { cluster: testContextName, user: "apicache-test-admin" } }],
    "current-context": testContextName,
  });
}

export function writeKubeconfig(path: string, credentials: AdminCredentials): void {
  writeFileSync(path, renderKubeconfig(credentials), { mode: 0o600 });
}

export function loadKubeConfig(path: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return kubeConfig;
}
