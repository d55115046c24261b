import type { EndpointType } from "../scenario.js";
import type { CacheClass } from "./cache-status.js";

/** A request the harness sent and timed. */
export interface TimedRequest {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly cache: CacheClass;
  /** Transport error or a status the scenario does not expect (>= 400). */
  readonly failed: boolean;
}

/** One measured request of the load: a sampled read or write. */
export interface Sample extends TimedRequest {
  readonly name: string;
  readonly endpoint: EndpointType | "write";
}

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly mean: number;
  readonly hits: number;
  readonly failed: number;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function summarize(samples: readonly Sample[]): Summary {
  const latencies = samples.map((s) => s.latencyMs);
  return {
    n: samples.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    mean: latencies.length === 0 ? Number.NaN : latencies.reduce((a, b) => a + b, 0) / latencies.length,
    hits: samples.filter((s) => s.cache === "hit").length,
    failed: samples.filter((s) => s.failed).length,
  };
}

/** (before - after) / before, in percent. */
export function improvement(before: number, after: number): number {
  return before > 0 ? ((before - after) / before) * 100 : Number.NaN;
}

export interface Comparison {
  readonly label: string;
  readonly before: Summary;
  readonly after: Summary;
  readonly p50Improvement: number;
  readonly p95Improvement: number;
  readonly meanImprovement: number;
  readonly hitRatio: number;
  /** Requests answered by the sidecar without reaching the upstream. */
  readonly upstreamSaved: number;
}

export function compare(label: string, before: readonly Sample[], after: readonly Sample[]): Comparison {
  const b = summarize(before);
  const a = summarize(after);
  return {
    label,
    before: b,
    after: a,
    p50Improvement: improvement(b.p50, a.p50),
    p95Improvement: improvement(b.p95, a.p95),
    meanImprovement: improvement(b.mean, a.mean),
    hitRatio: a.n > 0 ? a.hits / a.n : Number.NaN,
    upstreamSaved: a.hits,
  };
}

export interface ScenarioComparison {
  readonly scenario: string;
  readonly byEndpoint: readonly Comparison[];
  readonly reads: Comparison;
  readonly writes: Comparison;
  readonly overall: Comparison;
}

export const ENDPOINT_ORDER = ["slots", "analytics", "dashboard", "profile", "catalog"] as const;

export function compareScenario(
  scenario: string,
  before: readonly Sample[],
  after: readonly Sample[],
): ScenarioComparison {
  const of = (list: readonly Sample[], keep: (s: Sample) => boolean) => list.filter(keep);
  const byEndpoint = ENDPOINT_ORDER.filter(
    (e) => before.some((s) => s.endpoint === e) || after.some((s) => s.endpoint === e),
  ).map((endpoint) =>
    compare(
      endpoint,
      of(before, (s) => s.endpoint === endpoint),
      of(after, (s) => s.endpoint === endpoint),
    ),
  );
  return {
    scenario,
    byEndpoint,
    reads: compare(
      "all reads",
      of(before, (s) => s.endpoint !== "write"),
      of(after, (s) => s.endpoint !== "write"),
    ),
    writes: compare(
      "writes",
      of(before, (s) => s.endpoint === "write"),
      of(after, (s) => s.endpoint === "write"),
    ),
    overall: compare("all requests", before, after),
  };
}
