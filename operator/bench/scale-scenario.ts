import { kubeClientsFromFile } from "../../testkit/src/kube/client.js";
import type { ControlPlane } from "../../testkit/src/kube/control-plane.js";
import { waitUntilInjecting } from "../test/e2e/harness.js";
import type { BenchApi } from "./bench-api.js";
import type { BenchOptions } from "./bench-options.js";
import type { BenchResult, Latency, ProcessMemory } from "./bench-section.js";
import { type Activity, waitForQuiet, waitForResync } from "./operator-activity.js";
import { type OperatorProcess, startOperatorProcess } from "./operator-process.js";
import { Phases } from "./phases.js";
import type { PolicyTracker } from "./policy-tracker.js";
import { bucketQuantile, diffSamples } from "./prom-text.js";
import {
  createPods,
  createPolicies,
  Progress,
  policyNamespace,
  storedSizes,
  waitForCount,
} from "./scale-phases.js";

/**
 * The scenario, in two operator processes. The first creates everything: policies to Ready, pods
 * counted, webhook latency, then settles. It is stopped and a second one started on the same
 * cluster: its start-up reconciles every policy with nothing changed (an operator restart or leader
 * failover), and once it is quiet its periodic resync runs with nothing changed. The second process
 * gets a resync period long enough for its start-up sync to end first, so the resync measured is a
 * resync alone; the first keeps the production default (10m).
 */
export interface ScenarioInput {
  readonly options: BenchOptions;
  readonly api: BenchApi;
  readonly tracker: PolicyTracker;
  readonly plane: ControlPlane | undefined;
  readonly kubeconfig: string;
  readonly namespaces: readonly string[];
  readonly operatorNamespace: string;
  readonly main: string;
  /** NODE_OPTIONS of the operator, as the chart sets them. */
  readonly nodeOptions: string | undefined;
  readonly dir: string;
  readonly webhook: (port: number, namespace: string) => Promise<Latency>;
}

export interface ScenarioOutput {
  readonly result: Omit<BenchResult, "options" | "nodeOptions" | "command" | "date" | "machine">;
  readonly phases: Phases;
  readonly profiles: string[];
}

function start(input: ScenarioInput, name: string, resyncPeriod: string): Promise<OperatorProcess> {
  return startOperatorProcess({
    main: input.main,
    kubeconfig: input.kubeconfig,
    namespace: input.operatorNamespace,
    resyncPeriod,
    dir: input.dir,
    cpuProfile: input.options.cpuProfile,
    heapProfile: input.options.heapProfile,
    name,
    nodeFlags: input.options.operatorNodeFlags,
    ...(input.nodeOptions ? { nodeOptions: input.nodeOptions } : {}),
  });
}

interface Idle {
  readonly rssBytes: number;
  readonly liveHeapBytes: number;
}

async function idle(operator: OperatorProcess): Promise<Idle> {
  return { rssBytes: operator.memory().rssBytes, liveHeapBytes: (await operator.liveHeap()).heapUsed };
}

function memoryOf(operator: OperatorProcess, when: Idle): ProcessMemory {
  const heap = operator.heap();
  return {
    idleRssBytes: when.rssBytes,
    idleLiveHeapBytes: when.liveHeapBytes,
    peakRssBytes: operator.memory().hwmBytes,
    peakHeapUsedBytes: heap?.peak.heapUsed ?? 0,
    peakExternalBytes: heap?.peak.external ?? 0,
  };
}

function progressFor(phases: Phases): Progress {
  return new Progress(() => {
    const operator = phases.operator;
    if (!operator) return "";
    const heap = operator.heap()?.now.heapUsed ?? 0;
    return `operator RSS ${(operator.memory().rssBytes / 1048576).toFixed(0)} MiB, heap used ${(heap / 1048576).toFixed(0)} MiB, ${operator.sockets()} sockets`;
  });
}

async function podsPhase(
  input: ScenarioInput,
  phases: Phases,
  operator: OperatorProcess,
  progress: Progress,
) {
  const { options, api, namespaces, tracker } = input;
  const clients = kubeClientsFromFile(input.kubeconfig);
  await waitUntilInjecting(clients, policyNamespace(namespaces, 0), { app: "api-0" });
  const count = options.policies * options.podsPerPolicy;
  return phases.run(`${count} pods through the webhook, counted`, async () => {
    const webhookBefore = await operator.scrape();
    progress.restart();
    const injected = await createPods({ api, namespaces, progress }, options.policies, options.podsPerPolicy);
    const createMs = progress.elapsedMs();
    const server = bucketQuantile(
      diffSamples(webhookBefore, await operator.scrape()),
      "apicache_operator_webhook_duration_seconds",
      0.99,
    );
    const counting = {
      description: `policies counting their ${options.podsPerPolicy} pods`,
      current: () => tracker.countingCount(options.podsPerPolicy),
      target: options.policies,
    };
    const countedMs = await waitForCount(counting, progress, 900_000);
    const sizes = await storedSizes(api, policyNamespace(namespaces, 0));
    return { count, injected, createMs, countedMs, serverP99Le: server.le, serverCount: server.count, sizes };
  });
}

/** The first process: everything is created; returns its figures once it is quiet. */
async function firstProcess(input: ScenarioInput, phases: Phases, progress: Progress) {
  const { options, api, namespaces, tracker } = input;
  const operator = await start(input, "first", options.resyncPeriod);
  phases.operator = operator;
  const ready = await idle(operator);
  const readyMs = await phases.run(`${options.policies} CachePolicies to Ready`, async () => {
    progress.restart();
    await createPolicies({ api, namespaces, progress }, options.policies);
    const readyPolicies = {
      description: "CachePolicies Ready for their generation",
      current: () => tracker.readyCount(),
      target: options.policies,
    };
    return waitForCount(readyPolicies, progress, 1_800_000);
  });
  const pods = options.podsPerPolicy > 0 ? await podsPhase(input, phases, operator, progress) : undefined;
  const latencies = await phases.run(`webhook at ${options.concurrency} concurrent`, () =>
    input.webhook(operator.webhookPort, policyNamespace(namespaces, 0)),
  );
  progress.restart();
  await phases.run("settle", () => waitForQuiet(operator, { quietMs: 5_000, timeoutMs: 900_000, progress }));
  const memory = memoryOf(operator, ready);
  return { operator, readyMs, pods, latencies, memory };
}

/**
 * Long enough for the restarted process's start-up sync to end first: it does the work of a resync
 * (4 requests a policy) where creating did 6 and an Event, so it took 0.6-0.7 × the Ready time in
 * the runs so far. Should it still outlast the period, the next resync is the one measured.
 */
function restartResyncMs(options: BenchOptions, readyMs: number): number {
  return options.restartResyncMs ?? Math.max(60_000, Math.ceil((0.9 * readyMs + 30_000) / 1000) * 1000);
}

export async function runScenario(input: ScenarioInput): Promise<ScenarioOutput> {
  const { options } = input;
  const phases = new Phases(input.api, input.plane);
  const progress = progressFor(phases);
  const first = await firstProcess(input, phases, progress);
  const profiles = await first.operator.stop();

  const resyncMs = restartResyncMs(options, first.readyMs);
  let second: OperatorProcess | undefined;
  let ready: Idle = { rssBytes: 0, liveHeapBytes: 0 };
  progress.restart();
  const settled: Activity = await phases.run("restart: start-up sync, nothing changed", async () => {
    second = await start(input, "restarted", `${resyncMs / 1000}s`);
    phases.operator = second;
    ready = await idle(second);
    return waitForQuiet(second, { quietMs: 5_000, timeoutMs: 1_800_000, progress });
  });
  const restarted = second as OperatorProcess;
  const overlapped = progress.elapsedMs() > resyncMs;
  progress.restart();
  const resync = await phases.run("resync, nothing changed", () =>
    waitForResync(restarted, {
      from: settled,
      policies: options.policies,
      timeoutMs: 2 * resyncMs + 1_800_000,
      quietMs: 3_000,
      progress,
    }),
  );
  const restartedMemory = memoryOf(restarted, ready);
  // Each stop lists every profile in the directory so far: the first process's ones again.
  for (const file of await restarted.stop()) if (!profiles.includes(file)) profiles.push(file);
  const figures = phases.figures;
  return {
    phases,
    profiles,
    result: {
      memory: { first: first.memory, restarted: restartedMemory },
      readyMs: first.readyMs,
      ...(first.pods ? { pods: first.pods } : {}),
      latencies: first.latencies,
      restart: { writes: figures.at(-2)?.writes ?? [], ms: figures.at(-2)?.ms ?? 0 },
      resync: {
        period: `${resyncMs / 1000}s`,
        writes: figures.at(-1)?.writes ?? [],
        reconciles: resync.reconciles,
        ms: resync.lastMs - resync.firstMs,
        ...(overlapped
          ? { note: "the restarted process's start-up sync outlasted its resync period: the two overlapped" }
          : {}),
      },
      phases: figures,
    },
  };
}
