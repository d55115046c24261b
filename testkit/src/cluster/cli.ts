// `npx tsx testkit/src/cluster/cli.ts up|down|status|load-images|demo [--dir DIR] [--slot N] [ARCHIVE...]`:
// the developer cluster behind `make cluster-up`, `make cluster-down` and `make cluster-demo`.
import { relative, resolve } from "node:path";
import { readKubeTestkitConfig } from "../kube/config.js";
import { readClusterState, stateFile } from "./cluster-state.js";
import { clusterTools, demoNamespace, deployDemo, installChart, release, systemNamespace } from "./demo.js";
import { clusterLayout } from "./layout.js";
import {
  clusterDown,
  clusterStatus,
  clusterUp,
  defaultClusterDir,
  imageArchives,
  importImages,
} from "./node-cluster.js";

const usage = "usage: cli.ts up|down|status|load-images|demo [--dir DIR] [--slot N] [ARCHIVE...]";

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface Args {
  readonly command: string;
  readonly dir: string;
  /** Unset: the slot the directory's cluster was made for, else 0. */
  readonly slot: number | undefined;
  readonly rest: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const [command = "", ...more] = argv;
  let dir = defaultClusterDir;
  let slot: number | undefined;
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
    ...(args.slot === undefined ? {} : { slot: args.slot }),
    progress: (line) => print(`>> ${line}`),
  });
  const shown = relative(process.cwd(), cluster.kubeconfigPath) || cluster.kubeconfigPath;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  print(
    cluster.started
      ? `>> cluster ready in ${seconds}s: Kubernetes ${cluster.kubeVersion}, one node (apicache-node), API server ${cluster.apiServer}`
      : cluster.restarted.length > 0
        ? `>> cluster running again in ${seconds}s (started ${cluster.restarted.join(", ")}): Kubernetes ${cluster.kubeVersion}, API server ${cluster.apiServer}`
        : `>> cluster already running: Kubernetes ${cluster.kubeVersion}, API server ${cluster.apiServer}`,
  );
  print(`   state and logs: ${relative(process.cwd(), cluster.dir) || cluster.dir} (logs/<component>.log)`);
  print(`   export KUBECONFIG=${shown}`);
}

/** The cluster, the images, the chart with the bundled Redis, the demo API and its CachePolicy. */
async function demo(args: Args): Promise<void> {
  await up(args);
  const cluster = await clusterStatus(args.dir);
  if (cluster === undefined) throw new Error("the cluster stopped while starting the demo");
  const started = Date.now();
  const archives = imageArchives(readKubeTestkitConfig().imagesDir);
  importImages(clusterLayout(cluster.dir, cluster.slot), archives);
  print(
    `>> ${archives.length} images imported into the node in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
  const tools = clusterTools(cluster.kubeconfigPath);
  print(
    `>> helm upgrade --install ${release} charts/apicache -n ${systemNamespace} -f load-tests/cluster/values.yaml`,
  );
  await installChart(tools);
  print(">> demo namespace, CachePolicy demo-api (Ready), demo API (2 replicas, injected)");
  await deployDemo(tools);
  const kubeconfig = relative(process.cwd(), cluster.kubeconfigPath) || cluster.kubeconfigPath;
  print(`
The demo runs: the booking API in namespace ${demoNamespace}, each pod with the injected apicache-sidecar.
  export KUBECONFIG=${kubeconfig}
  kubectl -n ${demoNamespace} get cachepolicy,pods
  kubectl -n ${demoNamespace} port-forward svc/demo-api 8080:80 &
  curl -s -o /dev/null -D - localhost:8080/api/v2/services | grep -i cache-status   # run it twice: miss, then hit
  curl -s -D - localhost:8080/api/v2/barbers/3/slots?date=2026-12-07 -o /dev/null | grep -i cache-status
  kubectl -n ${demoNamespace} port-forward deploy/demo-api 9901 &   # the sidecar's admin port
  curl -s localhost:9901/metrics | grep apicache_requests_total
Stop everything with \`make cluster-down\`.`);
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  switch (args.command) {
    case "up":
      return up(args);
    case "down": {
      const { stopped } = await clusterDown(args.dir, args.slot, (line) => print(`>> ${line}`));
      print(stopped.length > 0 ? `>> cluster stopped (${stopped.join(", ")})` : ">> cluster not running");
      return;
    }
    case "status": {
      const cluster = await clusterStatus(args.dir);
      const read = readClusterState(args.dir);
      print(
        cluster !== undefined
          ? `running: Kubernetes ${cluster.kubeVersion}; KUBECONFIG=${cluster.kubeconfigPath}`
          : read.kind === "invalid"
            ? `not running: ${stateFile(args.dir)} is unusable (${read.problem}); \`down\` removes it`
            : "not running",
      );
      process.exitCode = cluster !== undefined ? 0 : 1;
      return;
    }
    case "demo":
      return demo(args);
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
