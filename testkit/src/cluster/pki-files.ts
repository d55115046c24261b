import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeTestkitError } from "../kube/errors.js";
import { type AdminCredentials, renderKubeconfig } from "../kube/kubeconfig.js";
import { type CertificateRequest, createCertificateAuthority, generateKeyPair } from "../kube/pki.js";
import type { ClusterLayout } from "./layout.js";

/** The clients that talk to the API server, each with a certificate Kubernetes maps to its identity. */
export const clusterClients = {
  admin: { commonName: "apicache-test-admin", organizations: ["system:masters"] },
  "kube-controller-manager": { commonName: "system:kube-controller-manager" },
  "kube-scheduler": { commonName: "system:kube-scheduler" },
  "kube-proxy": { commonName: "system:kube-proxy" },
  // Node authorization and NodeRestriction know the kubelet by this name and group.
  kubelet: { commonName: "system:node:apicache-node", organizations: ["system:nodes"] },
} as const satisfies Record<string, Omit<CertificateRequest, "usage">>;

export type ClusterClient = keyof typeof clusterClients;

/** Paths of every file the cluster's PKI writes. */
export interface ClusterPki {
  readonly caCert: string;
  readonly caKey: string;
  readonly apiServerCert: string;
  readonly apiServerKey: string;
  /** The API server's client certificate towards kubelets (logs, exec, port-forward). */
  readonly apiServerKubeletClientCert: string;
  readonly apiServerKubeletClientKey: string;
  readonly kubeletServingCert: string;
  readonly kubeletServingKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  readonly kubeconfigs: Readonly<Record<ClusterClient, string>>;
}

export function clusterPkiPaths(layout: ClusterLayout): ClusterPki {
  const at = (name: string) => join(layout.paths.pki, name);
  const kubeconfigs = Object.fromEntries(
    Object.keys(clusterClients).map((client) => [
      client,
      client === "admin" ? layout.paths.kubeconfig : at(`${client}.kubeconfig`),
    ]),
  ) as Record<ClusterClient, string>;
  return {
    caCert: at("ca.crt"),
    caKey: at("ca.key"),
    apiServerCert: at("apiserver.crt"),
    apiServerKey: at("apiserver.key"),
    apiServerKubeletClientCert: at("apiserver-kubelet-client.crt"),
    apiServerKubeletClientKey: at("apiserver-kubelet-client.key"),
    kubeletServingCert: at("kubelet.crt"),
    kubeletServingKey: at("kubelet.key"),
    serviceAccountKey: at("sa.key"),
    serviceAccountPub: at("sa.pub"),
    kubeconfigs,
  };
}

export function apiServerUrl(layout: ClusterLayout): string {
  return `https://${layout.network.hostIp}:${layout.network.apiServerPort}`;
}

/** A fresh CA and every certificate and kubeconfig the cluster needs; returns the admin's credentials. */
export function writeClusterPki(layout: ClusterLayout): AdminCredentials {
  const pki = clusterPkiPaths(layout);
  rmSync(layout.paths.pki, { recursive: true, force: true });
  mkdirSync(layout.paths.pki, { recursive: true, mode: 0o700 });
  const { network, nodeName } = layout;
  const ca = createCertificateAuthority("apicache-test-cluster-ca");
  const apiServer = ca.issue({
    commonName: "kube-apiserver",
    usage: "server",
    dnsNames: [
      "localhost",
      "kubernetes",
      "kubernetes.default",
      "kubernetes.default.svc",
      "kubernetes.default.svc.cluster.local",
    ],
    ipAddresses: ["127.0.0.1", network.hostIp, network.kubernetesServiceIp],
  });
  const kubeletClient = ca.issue({
    commonName: "kube-apiserver-kubelet-client",
    organizations: ["system:masters"],
    usage: "client",
  });
  const kubeletServing = ca.issue({
    commonName: nodeName,
    usage: "server",
    dnsNames: [nodeName],
    ipAddresses: [network.nodeIp],
  });
  const serviceAccount = generateKeyPair();
  const files: [string, string][] = [
    [pki.caCert, ca.certPem],
    [pki.caKey, ca.keyPem],
    [pki.apiServerCert, apiServer.certPem],
    [pki.apiServerKey, apiServer.keyPem],
    [pki.apiServerKubeletClientCert, kubeletClient.certPem],
    [pki.apiServerKubeletClientKey, kubeletClient.keyPem],
    [pki.kubeletServingCert, kubeletServing.certPem],
    [pki.kubeletServingKey, kubeletServing.keyPem],
    [pki.serviceAccountKey, serviceAccount.privateKeyPem],
    [pki.serviceAccountPub, serviceAccount.publicKeyPem],
  ];
  const server = apiServerUrl(layout);
  let admin: AdminCredentials | undefined;
  for (const [client, subject] of Object.entries(clusterClients) as [ClusterClient, CertificateRequest][]) {
    const cert = ca.issue({ ...subject, usage: "client" });
    const credentials = { server, caPem: ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem };
    if (client === "admin") admin = credentials;
    files.push([pki.kubeconfigs[client], renderKubeconfig(credentials)]);
  }
  for (const [path, content] of files) writeFileSync(path, content, { mode: 0o600 });
  if (admin === undefined) throw new Error("the cluster PKI has no admin client");
  return admin;
}

/** The admin's credentials from the cluster's kubeconfig (a cluster started earlier). */
export function readAdminCredentials(layout: ClusterLayout): AdminCredentials {
  const path = layout.paths.kubeconfig;
  let kubeconfig: string;
  try {
    kubeconfig = readFileSync(path, "utf8");
  } catch (error) {
    throw new KubeTestkitError(
      "APICACHE_ERR_CLUSTER_STATE",
      `cannot read ${path}: ${(error as Error).message}`,
    );
  }
  const field = (name: string) => {
    const value = new RegExp(`${name}:\\s*(\\S+)`).exec(kubeconfig)?.[1];
    if (value === undefined)
      throw new KubeTestkitError("APICACHE_ERR_CLUSTER_STATE", `no ${name} in ${path}`);
    return Buffer.from(value, "base64").toString("utf8");
  };
  return {
    server: /server:\s*(\S+)/.exec(kubeconfig)?.[1] ?? apiServerUrl(layout),
    caPem: field("certificate-authority-data"),
    certPem: field("client-certificate-data"),
    keyPem: field("client-key-data"),
  };
}
