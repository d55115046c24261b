/**
 * Operator benchmark (issue 6, acceptance 7; issue 13, the scale scenario): a real kube-apiserver +
 * etcd (testkit) and the operator as its own process (its tsc build). Phases:
 * (1) N CachePolicies are created at once: time until every one reports Ready for its generation
 *     (target ≤ 60 s for 5,000);
 * (2) pods for them are created through the API (the API server calls the operator's webhook for
 *     each): time until every policy counts them;
 * (3) the webhook answers AdmissionReviews at 50 concurrent (target p99 ≤ 20 ms);
 * (4) the operator settles and is replaced by a second process: its start-up sync, then its
 *     periodic resync, run with nothing changed: writes (target 0). See scale-scenario.ts.
 * Throughout: the operator's resident set (target peak ≤ 256 MiB), its writes per phase from the API
 * server's metrics, CPU seconds of operator, API server and etcd per phase.
 * A benchmark, not a test: it prints progress and a table and writes the "## Operator benchmark"
 * section of load-tests/results.md (the acceptance scenario only; `--write` to force).
 * Run: make bench-operator [BENCH_OPERATOR_ARGS="--quick"]; --help lists the flags.
 * APICACHE_E2E_KUBECONFIG reuses a running cluster (CPU of the API server is then not measured).
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestNamespace, kubeClientsFromFile } from "../../testkit/src/kube/client.js";
import { type ControlPlane, startControlPlane } from "../../testkit/src/kube/control-plane.js";
import { spawnTracked } from "../../testkit/src/processes.js";
import { injectionNamespace, installCrd } from "../test/e2e/harness.js";
import { benchApi } from "./bench-api.js";
import { type BenchOptions, parseBenchOptions, usage } from "./bench-options.js";
import { type Latency, renderSection, writeSection } from "./bench-section.js";
import { chartNodeOptions } from "./chart-node-options.js";
import { compileOperator, REPO } from "./operator-process.js";
import { PolicyTracker } from "./policy-tracker.js";
import {
  formatCpuSummary,
  formatHeapSummary,
  summarizeCpuProfile,
  summarizeHeapProfile,
  type Window,
} from "./profile-summary.js";
import { runPool } from "./scale-phases.js";
import { runScenario } from "./scale-scenario.js";

const RESULTS = new URL("../../load-tests/results.md", import.meta.url);

async function benchWebhook(options: BenchOptions, port: number, namespace: string): Promise<Latency> {
  const child = spawnTracked(process.execPath, [
    "--import",
    "tsx",
    fileURLToPath(new URL("./webhook-client.ts", import.meta.url)),
    String(port),
    namespace,
    String(options.webhookRequests),
    String(options.concurrency),
  ]);
  await new Promise((resolve) => child.child.once("exit", resolve));
  const line = child.output().trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as Latency;
  } catch {
    throw new Error(`the webhook load client failed: ${child.output()}`);
  }
}

interface Cluster {
  readonly kubeconfig: string;
  readonly plane: ControlPlane | undefined;
  readonly namespaces: string[];
  readonly operatorNamespace: string;
}

async function prepareCluster(options: BenchOptions, dir: string): Promise<Cluster> {
  const existing = process.env.APICACHE_E2E_KUBECONFIG;
  console.log(
    existing ? ">> using the cluster of APICACHE_E2E_KUBECONFIG" : ">> starting kube-apiserver + etcd",
  );
  const plane = existing
    ? undefined
    : await startControlPlane({ dir: join(dir, "cluster"), removeDirOnStop: true });
  const kubeconfig = existing ?? (plane?.kubeconfigPath as string);
  const clients = kubeClientsFromFile(kubeconfig);
  await installCrd(clients);
  const operatorNamespace = await createTestNamespace(clients, "apicache-op-bench");
  const namespaces: string[] = [];
  await runPool(options.namespaces, 10, async () =>
    namespaces.push(await injectionNamespace(clients, "bench")),
  );
  return { kubeconfig, plane, namespaces, operatorNamespace };
}

function printProfiles(files: readonly string[], windows: readonly Window[]): void {
  for (const file of files) {
    console.log(`>> ${relative(REPO, file)}`);
    if (file.endsWith(".cpuprofile")) {
      // Each process's profile covers only the phases it lived through.
      for (const summary of summarizeCpuProfile(file, windows)) {
        if (summary.totalMs > 0) console.log(formatCpuSummary(summary));
      }
    } else {
      console.log(formatHeapSummary(summarizeHeapProfile(file)));
    }
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseBenchOptions(argv);
  if (options.help) {
    console.log(usage());
    return;
  }
  const loadStart = loadavg()[0] ?? 0;
  const runDir = join(REPO, "tmp", "operator-bench", new Date().toISOString().replace(/[:.]/g, "-"));
  mkdirSync(runDir, { recursive: true });
  console.log(
    ">> compiling crds and operator with tsc, then bundling (the operator runs its bundle, as in its image)",
  );
  const main = compileOperator();
  const nodeOptions = await chartNodeOptions();
  console.log(`>> the operator runs with the chart's NODE_OPTIONS: ${nodeOptions ?? "(none)"}`);
  const cluster = await prepareCluster(options, mkdtempSync(join(tmpdir(), "apicache-bench-")));
  const api = await benchApi(kubeClientsFromFile(cluster.kubeconfig).kubeConfig);
  const tracker = new PolicyTracker(api, "bench=operator");
  try {
    await tracker.start();
    const { result, phases, profiles } = await runScenario({
      options,
      api,
      tracker,
      plane: cluster.plane,
      kubeconfig: cluster.kubeconfig,
      namespaces: cluster.namespaces,
      operatorNamespace: cluster.operatorNamespace,
      main,
      nodeOptions,
      dir: runDir,
      webhook: (port, namespace) => benchWebhook(options, port, namespace),
    });
    printProfiles(profiles, phases.windows);
    console.log(`operator logs and profiles: ${relative(REPO, runDir)}`);
    const cpu = cpus();
    const text = renderSection({
      ...result,
      options,
      nodeOptions,
      command: `make bench-operator${argv.length > 0 ? ` BENCH_OPERATOR_ARGS="${argv.join(" ")}"` : ""}`,
      date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
      machine: `${cpu.length} CPUs (${cpu[0]?.model ?? "unknown"}), Node ${process.version}, 1-minute load average ${loadStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end`,
    });
    console.log(`\n${text}`);
    if (options.write) writeSection(RESULTS, text);
    else
      console.log("(not written to load-tests/results.md: not the acceptance scenario; --write forces it)");
  } finally {
    tracker.stop();
    api.close();
    await cluster.plane?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
