/**
 * Part 3 of `make bench-multi`: the demo's mixed scenario (load-tests/scenarios/mixed.json, the demo
 * API on its `small` dataset, load-tests/policies/demo.yaml) through one sidecar, then through three
 * sidecars sharing one Redis, the same request stream spread round robin over them (one Host for
 * all, as behind a Service). Each phase: a fresh Redis and fresh sidecars, the harness's priming and
 * warm-up, then the measured run; hit ratio from each response's Cache-Status, upstream requests from
 * the sidecars' own counters over the measured run.
 */
import { join } from "node:path";
import { createHttpClient, createRoundRobinClient } from "@apicache/load-tests/harness/http-client";
import { runPhase } from "@apicache/load-tests/harness/run-scenario";
import {
  type DemoApiProcess,
  REPO_ROOT,
  type SidecarProcess,
  startDemoApiProcess,
  startRedis,
  startSidecarProcess,
} from "@apicache/load-tests/harness/stack";
import type { Scenario } from "@apicache/load-tests/scenario";
import { loadScenario } from "@apicache/load-tests/scenario-files";
import { scrape, waitForL1Channel } from "./multi-replicas.js";
import { type ReplicaPhase, sumMetric } from "./multi-report.js";

export interface HitRatioOptions {
  /** The sidecar's CLI entry to run (the tsc build's main.js). */
  readonly entry: string;
  readonly size: string;
  readonly replicas: readonly number[];
  readonly arrivalRate: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly host: string;
  readonly progress: (line: string, final?: boolean) => void;
}

export interface HitRatioRun {
  readonly scenario: Scenario;
  readonly phases: ReplicaPhase[];
}

const POLICY = join(REPO_ROOT, "load-tests/policies/demo.yaml");
const READS = ["GET", "HEAD"];

/** Requests the sidecars sent upstream so far: all, and those not for a write (each write goes up once). */
async function upstreamCounts(
  sidecars: readonly SidecarProcess[],
): Promise<{ reads: number; total: number }> {
  let total = 0;
  let writes = 0;
  for (const sidecar of sidecars) {
    const text = await scrape(sidecar);
    total += sumMetric(text, "apicache_upstream_request_duration_seconds_count").total;
    const requests = sumMetric(text, "apicache_requests_total", { method: READS });
    writes += requests.total - requests.matching;
  }
  return { reads: total - writes, total };
}

async function phase(
  replicas: number,
  demo: DemoApiProcess,
  scenario: Scenario,
  options: HitRatioOptions,
): Promise<ReplicaPhase> {
  const redis = await startRedis();
  const sidecars: SidecarProcess[] = [];
  try {
    options.progress(`starting ${replicas} sidecar(s) in front of the demo API, one Redis`, true);
    for (let i = 0; i < replicas; i++) {
      sidecars.push(
        await startSidecarProcess({
          policyFile: POLICY,
          upstream: demo.url,
          redisUrl: redis.url,
          entry: options.entry,
        }),
      );
    }
    await waitForL1Channel(sidecars);
    const client = createRoundRobinClient(
      sidecars.map((s) => createHttpClient(s.url)),
      options.host,
    );
    let before = { reads: 0, total: 0 };
    try {
      const result = await runPhase({
        label: `${scenario.name} · ${replicas} replica${replicas === 1 ? "" : "s"}`,
        baseUrl: sidecars[0]?.url ?? "",
        client,
        scenario,
        prime: scenario.primeCache,
        primeWrites: 0,
        progress: options.progress,
        beforeMeasured: async () => {
          before = await upstreamCounts(sidecars);
        },
      });
      const after = await upstreamCounts(sidecars);
      return {
        replicas,
        samples: result.samples,
        upstream: { reads: after.reads - before.reads, total: after.total - before.total },
        checks: { verified: result.checks.verified, stale: result.checks.stale.length },
        errors: [...result.warmupErrors, ...result.errors],
        primedKeys: result.primedKeys,
      };
    } finally {
      client.close();
    }
  } finally {
    await Promise.all(sidecars.map((s) => s.stop()));
    await redis.stop();
  }
}

export async function measureHitRatio(options: HitRatioOptions): Promise<HitRatioRun> {
  const scenario = loadScenario("mixed", {
    arrivalRate: options.arrivalRate,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
  });
  options.progress(`starting the demo API (size ${options.size}; the first run generates the dataset)`, true);
  const demo = await startDemoApiProcess({ size: options.size });
  try {
    const phases: ReplicaPhase[] = [];
    for (const replicas of options.replicas) phases.push(await phase(replicas, demo, scenario, options));
    return { scenario, phases };
  } finally {
    await demo.stop();
  }
}
