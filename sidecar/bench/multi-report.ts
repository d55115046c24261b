/**
 * Pure figures and formatting of `make bench-multi` (multi-bench.ts): hits across three replicas, the
 * propagation of a write's invalidation to the other replicas' L1, and the demo's hit ratio with three
 * replicas against one. No I/O: the runners hand their measurements in, this returns markdown.
 */
import { percentile, type Sample, summarize } from "@apicache/load-tests/harness/stats";
import { formatTable, type ScenarioResult } from "./bench-report.js";

export const MULTI_SECTION_HEADING = "## Many replicas (make bench-multi)";

/** The target for the propagation (issue #14, acceptance item 8): p99 within this, on loopback. */
export const PROPAGATION_TARGET_P99_MS = 5;

const ms = (value: number, digits = 3): string => {
  if (value === Number.POSITIVE_INFINITY) return "never";
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
};
const pct = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : "n/a");

// ---------------------------------------------------------------------------------------------------
// 1. L1 hit vs Redis hit

/** Row names of the hits table; the L1-cost comparisons look rows up by them. */
export const HIT_ROWS = {
  floor: "floor",
  memory: "memory-store hit ×3",
  l1: "L1 hit ×3",
  redis: "Redis hit ×3",
} as const;

export interface HitsRun {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly rounds: number;
  readonly results: readonly ScenarioResult[];
  /** Per sidecar row, from its replicas' counters over the measured runs: what actually served them. */
  readonly served: readonly RowServing[];
}

export interface RowServing {
  readonly name: string;
  readonly requests: number;
  /** Requests whose outcome was a hit. */
  readonly hits: number;
  /** Reads of the Redis tier (`apicache_store_operation_duration_seconds_count{store="redis",operation="get"}`). */
  readonly redisReads: number;
}

/** Rows where not every response was a hit (a Redis timeout, an open circuit): their figures are not hits'. */
export function notAllHits(served: readonly RowServing[]): RowServing[] {
  return served.filter((row) => row.requests === 0 || row.hits < row.requests);
}

export interface Difference {
  readonly what: string;
  readonly ms: number;
  readonly of: string;
}

/**
 * What an L1 hit costs, from p50 latencies at one connection: over a memory-store hit (the same
 * in-process LRU without Redis, so without the tiered store's coherence checks and its io-turn wait,
 * io-turn.ts), over the floor, and what a Redis round trip adds to a hit.
 */
export function hitDifferences(results: readonly ScenarioResult[]): Difference[] {
  const p50 = (name: string) => results.find((r) => r.name === name)?.latency.p50Ms ?? Number.NaN;
  const pair = (a: string, b: string, what: string): Difference => ({
    what,
    ms: p50(a) - p50(b),
    of: `${ms(p50(a))} − ${ms(p50(b))} ms`,
  });
  return [
    pair(
      HIT_ROWS.l1,
      HIT_ROWS.memory,
      "L1 hit over a memory-store hit: the tiered store with pushed invalidation, its io-turn wait included",
    ),
    pair(HIT_ROWS.l1, HIT_ROWS.floor, "L1 hit over the bare node:http floor"),
    pair(HIT_ROWS.redis, HIT_ROWS.l1, "Redis hit over an L1 hit: the round trip to Redis"),
  ];
}

export function formatHits(run: HitsRun): string {
  const table = formatTable({
    date: "",
    machine: "",
    command: "",
    bodyBytes: 0,
    connections: run.connections,
    durationSeconds: run.durationSeconds,
    rounds: run.rounds,
    results: run.results,
  });
  const differences = [
    "| p50 at one connection | added ms | from |",
    "|---|---:|---|",
    ...hitDifferences(run.results).map((d) => `| ${d.what} | ${ms(d.ms)} | ${d.of} |`),
  ];
  const served = [
    "| row | responses (measured runs) | hits | Redis reads per response |",
    "|---|---:|---:|---:|",
    ...run.served.map(
      (r) =>
        `| ${r.name} | ${r.requests} | ${pct(r.requests === 0 ? Number.NaN : r.hits / r.requests)} | ${r.requests === 0 ? "n/a" : (r.redisReads / r.requests).toFixed(3)} |`,
    ),
  ];
  return [table, "", ...differences, "", ...served].join("\n");
}

// ---------------------------------------------------------------------------------------------------
// 2. Invalidation propagation

/**
 * One reader replica's view of one write through another replica: when probes sent to it stopped
 * getting the old copy. Times in ms after the write's invalidation was applied in Redis (the earlier
 * of its push reaching a tracking connection and the write's response reaching the client; see
 * multi-propagation.ts).
 */
export interface PropagationSample {
  /** The replica that held the entry in L1 and was probed. */
  readonly reader: number;
  /** Send time of its first probe that got the new version (Infinity: none within the deadline). */
  readonly freshMs: number;
  /** Send time of its last probe that still got the old copy (negative: every such probe was sent before it was applied). */
  readonly staleMs: number;
  /** The first fresh probe's send time after the write's response reached the client (negative: before). */
  readonly freshFromResponseMs: number;
  /** Probes sent after the write's response that still got the old copy (read-your-write says 0). */
  readonly staleAfterResponse: number;
}

export interface PropagationSummary {
  readonly writes: number;
  readonly samples: number;
  readonly fresh: Percentiles;
  readonly stale: Percentiles;
  readonly freshFromResponse: Percentiles;
  /** Samples with a probe sent after the invalidation was applied that still got the old copy. */
  readonly staleAfterApplied: number;
  /** Samples whose reader still served the old copy when the deadline passed. */
  readonly never: number;
  readonly staleAfterResponse: number;
  readonly targetMet: boolean;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function percentiles(values: readonly number[]): Percentiles {
  return {
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

export function summarizePropagation(
  samples: readonly PropagationSample[],
  writes: number,
): PropagationSummary {
  const fresh = percentiles(samples.map((s) => s.freshMs));
  return {
    writes,
    samples: samples.length,
    fresh,
    stale: percentiles(samples.map((s) => s.staleMs)),
    freshFromResponse: percentiles(samples.map((s) => s.freshFromResponseMs)),
    staleAfterApplied: samples.filter((s) => s.staleMs > 0).length,
    never: samples.filter((s) => s.freshMs === Number.POSITIVE_INFINITY).length,
    staleAfterResponse: samples.reduce((sum, s) => sum + s.staleAfterResponse, 0),
    targetMet: samples.length > 0 && fresh.p99 <= PROPAGATION_TARGET_P99_MS,
  };
}

export function formatPropagation(summary: PropagationSummary, probeP50Ms: number): string {
  const s = summary;
  const row = (label: string, p: Percentiles) =>
    `| ${label} | ${s.samples} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} |`;
  return [
    "| a reader's probes, sent after … | samples | p50 ms | p99 ms | max ms |",
    "|---|---:|---:|---:|---:|",
    row("the invalidation was applied: its first probe that got the new version", s.fresh),
    row("the invalidation was applied: its last probe that still got the old copy", s.stale),
    row("the write's response at the client: its first probe that got the new version", s.freshFromResponse),
    "",
    "| target | measured | met |",
    "|---|---|---|",
    `| propagation p99 ≤ ${PROPAGATION_TARGET_P99_MS} ms on loopback (first new version after it was applied) | ${ms(s.fresh.p99)} ms | ${s.targetMet ? "yes" : "**no**"} |`,
    `| probes sent after the write's response that got the old copy: 0 | ${s.staleAfterResponse} | ${s.staleAfterResponse === 0 ? "yes" : "**no**"} |`,
    "",
    `${s.writes} writes, ${s.samples} samples (one per other replica and write). Samples with a probe sent after the invalidation was applied that still got the old copy: ${s.staleAfterApplied}; ` +
      `readers still serving it at the deadline: ${s.never}. Resolution: one probe round trip (an L1 hit, p50 ${ms(probeP50Ms)} ms).`,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------------
// 3. The demo's mixed scenario, three replicas against one

export interface ReplicaPhase {
  readonly replicas: number;
  readonly samples: readonly Sample[];
  /** Requests the sidecars sent to the demo API during the measured run (their metrics, summed). */
  readonly upstream: { readonly reads: number; readonly total: number };
  readonly checks: { readonly verified: number; readonly stale: number };
  readonly errors: readonly string[];
  /** Distinct read keys read once before the warm-up (the harness's priming). */
  readonly primedKeys: number;
}

const ENDPOINTS = ["slots", "analytics", "dashboard", "profile", "catalog"] as const;

function hitRatio(samples: readonly Sample[]): number {
  const s = summarize(samples);
  return s.n === 0 ? Number.NaN : s.hits / s.n;
}

export function formatHitRatio(one: ReplicaPhase, many: ReplicaPhase): string {
  const reads = (p: ReplicaPhase) => p.samples.filter((s) => s.endpoint !== "write");
  const row = (label: string, a: readonly Sample[], b: readonly Sample[]) =>
    `| ${label} | ${a.length} / ${b.length} | ${pct(hitRatio(a))} | ${pct(hitRatio(b))} | ` +
    `${ms(summarize(a).p50, 2)} | ${ms(summarize(b).p50, 2)} | ${ms(summarize(a).p95, 2)} | ${ms(summarize(b).p95, 2)} |`;
  const head = `${one.replicas} / ${many.replicas}`;
  const n = (p: ReplicaPhase) => `${p.replicas} replica${p.replicas === 1 ? "" : "s"}`;
  const lines = [
    `| endpoint | requests (${head}) | hit ratio, ${n(one)} | hit ratio, ${n(many)} | p50 ms, ${n(one)} | p50 ms, ${n(many)} | p95 ms, ${n(one)} | p95 ms, ${n(many)} |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...ENDPOINTS.flatMap((endpoint) => {
      const a = one.samples.filter((s) => s.endpoint === endpoint);
      const b = many.samples.filter((s) => s.endpoint === endpoint);
      return a.length + b.length === 0 ? [] : [row(endpoint, a, b)];
    }),
    row("**all reads**", reads(one), reads(many)),
    "",
    `| | ${n(one)} | ${n(many)} |`,
    "|---|---:|---:|",
    `| upstream requests for reads (fills, revalidations, warming) | ${one.upstream.reads} | ${many.upstream.reads} |`,
    `| upstream requests, all (writes and read-after-write checks included) | ${one.upstream.total} | ${many.upstream.total} |`,
    `| reads after a write checked / stale | ${one.checks.verified} / ${one.checks.stale} | ${many.checks.verified} / ${many.checks.stale} |`,
    `| requests the demo API refused (4xx, e.g. a booking whose slot was taken) | ${refused(one)} | ${refused(many)} |`,
    `| failed requests (5xx, or no answer) | ${failed(one)} | ${failed(many)} |`,
  ];
  return lines.join("\n");
}

/** Requests that got a 4xx: the demo API's own answer (a conflict), not a broken run. */
export function refused(phase: ReplicaPhase): number {
  return phase.samples.filter((s) => s.status >= 400 && s.status < 500).length;
}

/** Requests that got no answer or a 5xx: a broken run. */
export function failed(phase: ReplicaPhase): number {
  return phase.samples.filter((s) => s.failed && (s.status === 0 || s.status >= 500)).length;
}

/**
 * Sums the samples of `name` in a Prometheus text exposition: all of them, and those whose labels
 * match `where` (each label's value equal to one of those given).
 */
export function sumMetric(
  text: string,
  name: string,
  where: Readonly<Record<string, readonly string[]>> = {},
): { readonly matching: number; readonly total: number } {
  let matching = 0;
  let total = 0;
  const conditions = Object.entries(where).map(
    ([label, values]) => [new RegExp(`[{,]${label}="([^"]*)"`), new Set(values)] as const,
  );
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (!Number.isFinite(value)) continue;
    total += value;
    const matches = conditions.every(([pattern, values]) => values.has(pattern.exec(line)?.[1] ?? "\u0000"));
    if (matches) matching += value;
  }
  return { matching, total };
}
