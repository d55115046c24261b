// The test cluster's DNS as a process of its own (started by node-cluster.ts, like the API server):
//   node --import tsx testkit/src/cluster/cluster-dns-main.ts --kubeconfig FILE --listen HOST:PORT
import { loadKubeConfig } from "../kube/kubeconfig.js";
import { startClusterDns } from "./cluster-dns.js";

function flag(name: string): string {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  if (value === undefined)
    throw new Error(`usage: cluster-dns-main.ts --kubeconfig FILE --listen HOST:PORT (missing --${name})`);
  return value;
}

const listen = flag("listen");
const separator = listen.lastIndexOf(":");
const dns = await startClusterDns({
  kubeConfig: loadKubeConfig(flag("kubeconfig")),
  host: listen.slice(0, separator),
  port: Number(listen.slice(separator + 1)),
  onError: (error) =>
    process.stderr.write(`cluster-dns: ${error instanceof Error ? error.message : String(error)}\n`),
});
process.stdout.write(`cluster-dns: listening on ${listen}, ${dns.services()} services\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void dns.close().finally(() => process.exit(0)));
}
