// `npx tsx testkit/src/cluster/cli.ts up|down|status|load-images [--dir DIR] [--slot N] [ARCHIVE...]`:
// the developer cluster behind `make cluster-up` / `make cluster-down` (node-cluster.ts).
import { relative, resolve } from "node:path";
import { repoRoot } from "../kube/tools.js";
import { clusterLayout } from "./layout.js";
import { clusterDown, clusterStatus, clusterUp, importImages } from "./node-cluster.js";

const usage = "usage: cli.ts up|down|status|load-images [--dir DIR] [--slot N] [ARCHIVE...]";

export const defaultClusterDir: string = resolve(repoRoot, ".cache", "test-cluster");

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface Args {
  readonly command: string;
  readonly dir: string;
  readonly slot: number;
  readonly rest: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const [command = "", ...more] = argv;
  let dir = defaultClusterDir;
  let slot = 0;
  const rest: string[] = [];
  for (let i = 0; i < more.length; i++) {
    const arg = more[i] as string;
    if (arg === "--dir" && more[i + 1] !== undefined) dir = resolve(more[++i] as string);
    else if (arg === "--slot" && more[i + 1] !== undefined) slot = Number(more[++i]);
    else if (arg.startsWith("--")) throw new Error(usage);
    else rest.push(arg);
  }
  return { command, dir, slot, rest };
}

async function up(args: Args): Promise<void> {
  const started = Date.now();
  const cluster = await clusterUp({
    dir: args.dir,
    slot: args.slot,
    progress: (line) => print(`>> ${line}`),
  });
  const shown = relative(process.cwd(), cluster.kubeconfigPath) || cluster.kubeconfigPath;
  print(
    cluster.started
      ? `>> cluster ready in ${((Date.now() - started) / 1000).toFixed(1)}s: Kubernetes ${cluster.kubeVersion}, one node (apicache-node), API server ${cluster.apiServer}`
      : `>> cluster already running: Kubernetes ${cluster.kubeVersion}, API server ${cluster.apiServer}`,
  );
  print(`   state and logs: ${relative(process.cwd(), cluster.dir) || cluster.dir} (logs/<component>.log)`);
  print(`   export KUBECONFIG=${shown}`);
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  switch (args.command) {
    case "up":
      return up(args);
    case "down": {
      const { stopped } = await clusterDown(args.dir, args.slot);
      print(stopped.length > 0 ? `>> cluster stopped (${stopped.join(", ")})` : ">> cluster not running");
      return;
    }
    case "status": {
      const cluster = await clusterStatus(args.dir);
      print(
        cluster !== undefined
          ? `running: Kubernetes ${cluster.kubeVersion}; KUBECONFIG=${cluster.kubeconfigPath}`
          : "not running",
      );
      process.exitCode = cluster !== undefined ? 0 : 1;
      return;
    }
    case "load-images": {
      const cluster = await clusterStatus(args.dir);
      if (cluster === undefined) throw new Error("the cluster is not running: `make cluster-up` first");
      importImages(
        clusterLayout(cluster.dir, cluster.slot),
        args.rest.map((path) => resolve(path)),
      );
      print(`>> imported ${args.rest.length} image archive(s) into the node's containerd`);
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
