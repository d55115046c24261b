// `npx tsx testkit/src/kube/cli.ts up|down|status [--dir DIR]`: the developer cluster behind
// `make cluster-up` / `make cluster-down` (the same control plane the e2e tier starts).
import { relative, resolve } from "node:path";
import { clusterDown, clusterStatus, clusterUp, defaultClusterDir } from "./persistent-cluster.js";

const usage = "usage: cli.ts up|down|status [--dir DIR]";

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function parseArgs(argv: readonly string[]): { command: string; dir: string } {
  const [command = "", flag, value] = argv;
  if (flag === undefined) return { command, dir: defaultClusterDir };
  if (flag !== "--dir" || value === undefined || argv.length > 3) throw new Error(usage);
  return { command, dir: resolve(value) };
}

async function main(argv: readonly string[]): Promise<void> {
  const { command, dir } = parseArgs(argv);
  const shown = (path: string) => relative(process.cwd(), path) || path;
  switch (command) {
    case "up": {
      const started = Date.now();
      const result = await clusterUp(dir);
      print(
        result.started
          ? `>> control plane ready in ${((Date.now() - started) / 1000).toFixed(1)}s (etcd pid ${result.pids.etcd}, kube-apiserver pid ${result.pids.apiServer})`
          : ">> control plane already running",
      );
      print(`   export KUBECONFIG=${shown(result.kubeconfigPath)}`);
      return;
    }
    case "down": {
      const { stopped } = await clusterDown(dir);
      print(
        stopped.length > 0
          ? `>> control plane stopped (pids ${stopped.join(", ")})`
          : ">> control plane not running",
      );
      return;
    }
    case "status": {
      const status = await clusterStatus(dir);
      print(status.running ? `running; KUBECONFIG=${shown(status.kubeconfigPath)}` : "not running");
      process.exitCode = status.running ? 0 : 1;
      return;
    }
    default:
      throw new Error(usage);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`apicache cluster: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
