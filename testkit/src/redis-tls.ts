import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createCertificateAuthority } from "./kube/pki.js";

/**
 * TLS material for test Redis servers on loopback: a throwaway CA and one server certificate for
 * 127.0.0.1/localhost, written to `dir`. Clients trust `caPem` (or `caFile`, e.g. through
 * NODE_EXTRA_CA_CERTS for a child process). Servers do not ask clients for certificates.
 */
export interface RedisTls {
  readonly caPem: string;
  readonly caFile: string;
  /** redis-server flags that serve TLS on `port` (and nothing in the clear) and replicate over TLS. */
  serverArgs(port: number): string[];
  /** The same as sentinel.conf lines. */
  confLines(port: number): string[];
}

export async function createRedisTls(dir: string): Promise<RedisTls> {
  const ca = createCertificateAuthority("apicache-test-redis-ca");
  const server = ca.issue({
    commonName: "127.0.0.1",
    ipAddresses: ["127.0.0.1"],
    dnsNames: ["localhost"],
    usage: "server",
  });
  const caFile = join(dir, "tls-ca.pem");
  const certFile = join(dir, "tls-server.pem");
  const keyFile = join(dir, "tls-server.key");
  await writeFile(caFile, ca.certPem);
  await writeFile(certFile, server.certPem);
  await writeFile(keyFile, server.keyPem, { mode: 0o600 });
  const settings = (port: number): [string, string][] => [
    ["port", "0"],
    ["tls-port", String(port)],
    ["tls-cert-file", certFile],
    ["tls-key-file", keyFile],
    ["tls-ca-cert-file", caFile],
    ["tls-auth-clients", "no"],
    ["tls-replication", "yes"],
  ];
  return {
    caPem: ca.certPem,
    caFile,
    serverArgs: (port) => settings(port).flatMap(([name, value]) => [`--${name}`, value]),
    confLines: (port) => settings(port).map(([name, value]) => `${name} ${value}`),
  };
}
