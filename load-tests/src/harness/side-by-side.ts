import { readFileSync } from "node:fs";
import type { Scenario } from "../scenario.js";
import { type DashboardCheck, type DashboardWatch, watchDashboard } from "./dashboard-check.js";
import { type DbWork, dbWork, readDbStats } from "./db-stats.js";
import { describeMachine } from "./machine.js";
import { type PhaseOptions, type PhaseResult, runPhase } from "./run-scenario.js";
import { policyRoutes } from "./sidecar-route.js";
import {
  type DemoApiProcess,
  REPO_ROOT,
  type SidecarProcess,
  startDemoApiProcess,
  startRedis,
  startSidecarProcess,
} from "./stack.js";
import { compareScenario, type ScenarioComparison } from "./stats.js";
import { measureWriteOverhead, type WriteOverhead } from "./write-overhead.js";

/**
 * A side-by-side run: one demo API process; per scenario, the direct phase against it, then a fresh
 * sidecar (and a fresh redis-server when store is "redis") in front of it and the same phase through
 * the sidecar, at the same arrival rate with the same request stream.
 */
export interface SideBySideOptions {
  readonly size: string;
  readonly scenarios: readonly Scenario[];
  readonly store: "redis" | "memory";
  readonly policyFile: string;
  readonly progress: (line: string, final?: boolean) => void;
  /** Called once the stack is up, e.g. to print where it listens. */
  readonly onDemoApi?: (api: DemoApiProcess) => void;
  /** After a scenario with writes, measure writes one at a time (write-overhead.ts); the bench does. */
  readonly isolatedWrites: boolean;
  /** Idempotent updates sent through each path before a phase with writes (run-scenario.ts). */
  readonly primeWrites: number;
  /** Keep the last sidecar running (the demo lets people poke at it); the caller stops it. */
  readonly keepLastSidecar?: boolean;
  /** A real Prometheus scrapes each sidecar; its headline panels are checked (dashboard-check.ts). */
  readonly checkDashboard?: boolean;
  /** A demo API already started (e.g. calibrated first); the run stops it with the rest. */
  readonly demoApi?: DemoApiProcess;
  /** Read the demo API's SQL statement counters around each measured run (db-stats.ts). */
  readonly countStatements?: boolean;
}

export interface ScenarioOutcome {
  readonly scenario: Scenario;
  readonly comparison: ScenarioComparison;
  readonly direct: PhaseResult;
  readonly sidecar: PhaseResult;
  readonly health: { readonly failed: number; readonly stale: number; readonly verified: number };
  /** Scenarios with writes: writes one at a time, direct vs through the sidecar, nothing else running. */
  readonly writeOverhead?: WriteOverhead;
  /** The dashboard's headline panels vs the harness's figures for the measured window. */
  readonly dashboard?: DashboardCheck;
  /** The demo API's SQL statements during each measured run (countStatements). */
  readonly db?: { readonly direct: DbWork; readonly sidecar: DbWork };
}

export interface SideBySideRun {
  readonly outcomes: ScenarioOutcome[];
  readonly demoApi: DemoApiProcess;
  readonly sidecarCommand: string;
  readonly lastSidecar?: SidecarProcess;
  readonly machine: string;
  stop(): Promise<void>;
}

export async function runSideBySide(options: SideBySideOptions): Promise<SideBySideRun> {
  const machine = describeMachine();
  const demoApi = options.demoApi ?? (await startDemoApiWithProgress(options));
  options.onDemoApi?.(demoApi);
  const outcomes: ScenarioOutcome[] = [];
  let sidecarCommand = "";
  let lastSidecar: SidecarProcess | undefined;
  let lastRedis: { stop(): Promise<void> } | undefined;
  try {
    for (const [index, scenario] of options.scenarios.entries()) {
      const directDb = statementWindow(options.countStatements === true, demoApi.url);
      const direct = await runPhase({
        ...directDb.hook,
        label: `${scenario.name} · direct`,
        baseUrl: demoApi.url,
        scenario,
        prime: false,
        primeWrites: options.primeWrites,
        progress: options.progress,
      });
      const directWork = await directDb.done(direct);
      const redis = options.store === "redis" ? await startRedis() : undefined;
      const sidecar = await startSidecarProcess({
        policyFile: options.policyFile,
        upstream: demoApi.url,
        ...(redis ? { redisUrl: redis.url } : {}),
      });
      sidecarCommand = sidecar.command;
      let phase: SidecarPhase;
      try {
        phase = await throughSidecar(options, { scenario, direct, sidecar, directUrl: demoApi.url });
      } finally {
        const keep = options.keepLastSidecar && index === options.scenarios.length - 1;
        if (keep) {
          lastSidecar = sidecar;
          lastRedis = redis;
        } else {
          await sidecar.stop();
          await redis?.stop();
        }
      }
      outcomes.push({
        scenario,
        comparison: compareScenario(scenario.name, direct.samples, phase.through.samples),
        direct,
        sidecar: phase.through,
        health: {
          failed:
            direct.samples.filter((s) => s.failed).length +
            phase.through.samples.filter((s) => s.failed).length,
          stale: direct.checks.stale.length + phase.through.checks.stale.length,
          verified: direct.checks.verified + phase.through.checks.verified,
        },
        ...(phase.writeOverhead ? { writeOverhead: phase.writeOverhead } : {}),
        ...(phase.dashboard ? { dashboard: phase.dashboard } : {}),
        ...(directWork && phase.db ? { db: { direct: directWork, sidecar: phase.db } } : {}),
      });
    }
  } catch (error) {
    await lastSidecar?.stop();
    await lastRedis?.stop();
    await demoApi.stop();
    throw error;
  }
  return {
    outcomes,
    demoApi,
    sidecarCommand,
    ...(lastSidecar ? { lastSidecar } : {}),
    machine,
    stop: async () => {
      await lastSidecar?.stop();
      await lastRedis?.stop();
      await demoApi.stop();
    },
  };
}

interface SidecarPhase {
  readonly through: PhaseResult;
  readonly writeOverhead?: WriteOverhead;
  readonly dashboard?: DashboardCheck;
  readonly db?: DbWork;
}

/**
 * The scenario through a running sidecar; with checkDashboard, a Prometheus watches it and the headline
 * panels are read right after the measured run (before the isolated writes add requests).
 */
async function throughSidecar(
  options: SideBySideOptions,
  run: { scenario: Scenario; direct: PhaseResult; sidecar: SidecarProcess; directUrl: string },
): Promise<SidecarPhase> {
  const { scenario, sidecar } = run;
  const statements = statementWindow(options.countStatements === true, run.directUrl);
  const watch: DashboardWatch | undefined = options.checkDashboard
    ? await watchDashboard({ repoRoot: REPO_ROOT, adminUrl: sidecar.adminUrl })
    : undefined;
  try {
    let startMs = 0;
    const through = await runPhase({
      label: `${scenario.name} · sidecar`,
      baseUrl: sidecar.url,
      scenario,
      prime: scenario.primeCache,
      primeWrites: options.primeWrites,
      progress: options.progress,
      beforeMeasured: async () => {
        startMs = (await watch?.startWindow()) ?? 0;
        await statements.hook.beforeMeasured?.();
      },
    });
    const db = await statements.done(through);
    let dashboard: DashboardCheck | undefined;
    if (watch) {
      options.progress(`[${scenario.name}] the dashboard's headline panels, through Prometheus`);
      const comparison = compareScenario(scenario.name, run.direct.samples, through.samples);
      dashboard = await watch.check(
        { startMs, endMs: Date.now() },
        {
          comparison,
          checkReads: through.checkReads,
          samples: through.samples,
          earlierSamples: [...through.earlierSamples, ...through.earlierCheckReads],
          // The sidecar's labels come from the policy file it was started with.
          routeOf: policyRoutes(readFileSync(options.policyFile, "utf8")),
        },
      );
    }
    let writeOverhead: WriteOverhead | undefined;
    if (options.isolatedWrites && scenario.writeRatio > 0) {
      options.progress(`[${scenario.name}] writes one at a time, direct vs sidecar`);
      writeOverhead = await measureWriteOverhead({
        scenario,
        directUrl: run.directUrl,
        sidecarUrl: sidecar.url,
      });
    }
    return {
      through,
      ...(writeOverhead ? { writeOverhead } : {}),
      ...(dashboard ? { dashboard } : {}),
      ...(db ? { db } : {}),
    };
  } finally {
    await watch?.stop();
  }
}

/** Reads the demo API's statement counters right before a measured run (its hook) and after it. */
function statementWindow(enabled: boolean, apiUrl: string) {
  let before: Awaited<ReturnType<typeof readDbStats>> | undefined;
  let started = 0;
  const hook: Pick<PhaseOptions, "beforeMeasured"> = enabled
    ? {
        beforeMeasured: async () => {
          before = await readDbStats(apiUrl);
          started = performance.now();
        },
      }
    : {};
  return {
    hook,
    done: async (phase: PhaseResult): Promise<DbWork | undefined> => {
      if (!before) return undefined;
      const seconds = (performance.now() - started) / 1000;
      return dbWork(before, await readDbStats(apiUrl), { seconds, clientRequests: phase.samples.length });
    },
  };
}

export async function startDemoApiWithProgress(
  options: Pick<SideBySideOptions, "size" | "progress">,
): Promise<DemoApiProcess> {
  options.progress(`starting the demo API (size ${options.size}; the first run generates the dataset)`);
  const demoApi = await startDemoApiProcess({ size: options.size });
  options.progress(
    `demo API at ${demoApi.url} (dataset from ${demoApi.source}, ${(demoApi.loadMillis / 1000).toFixed(1)} s)`,
    true,
  );
  return demoApi;
}
