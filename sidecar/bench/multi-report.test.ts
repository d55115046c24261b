import type { Sample } from "@apicache/load-tests/harness/stats";
import { describe, expect, it } from "vitest";
import type { LoadSample, ScenarioResult } from "./bench-report.js";
import {
  failed,
  formatHitRatio,
  formatHits,
  formatPropagation,
  HIT_ROWS,
  hitDifferences,
  notAllHits,
  type PropagationSample,
  type ReplicaPhase,
  refused,
  sumMetric,
  summarizePropagation,
} from "./multi-report.js";

const sample = (freshMs: number, over: Partial<PropagationSample> = {}): PropagationSample => ({
  reader: 1,
  freshMs,
  staleMs: freshMs - 1,
  freshFromResponseMs: freshMs - 2,
  staleAfterResponse: 0,
  ...over,
});

describe("summarizePropagation", () => {
  describe("with 100 samples of 1..100 ms", () => {
    const samples = Array.from({ length: 100 }, (_, i) => sample(i + 1));
    const summary = summarizePropagation(samples, 50);

    it("reports nearest-rank percentiles and the maximum of each measure", () => {
      expect(summary.fresh).toEqual({ p50: 50, p99: 99, max: 100 });
      expect(summary.stale).toEqual({ p50: 49, p99: 98, max: 99 });
      expect(summary.freshFromResponse.p50).toBe(48);
      expect(summary).toMatchObject({ writes: 50, samples: 100 });
    });

    it("counts the samples whose last old copy was sent after the invalidation was applied", () => {
      expect(summary.staleAfterApplied).toBe(99); // staleMs 0..99: 0 is not after, 1..99 are
    });

    it("misses the 5 ms target", () => {
      expect(summary.targetMet).toBe(false);
    });
  });

  describe("when the p99 is exactly the target", () => {
    it("meets it", () => {
      const samples = [...Array.from({ length: 99 }, () => sample(0.5)), sample(5)];
      expect(summarizePropagation(samples, 50).targetMet).toBe(true);
      const over = [...Array.from({ length: 98 }, () => sample(0.5)), sample(5.01), sample(6)];
      expect(summarizePropagation(over, 50).targetMet).toBe(false);
    });
  });

  describe("when a reader never got the new version", () => {
    it("counts it, and it weighs in the percentiles as never", () => {
      const summary = summarizePropagation([sample(1), sample(Number.POSITIVE_INFINITY)], 1);
      expect(summary.never).toBe(1);
      expect(summary.fresh.p99).toBe(Number.POSITIVE_INFINITY);
      expect(formatPropagation(summary, 0.2)).toContain("| never |");
    });
  });

  it("adds up the probes that got the old copy after the write's response", () => {
    const summary = summarizePropagation([sample(1, { staleAfterResponse: 2 }), sample(1)], 2);
    expect(summary.staleAfterResponse).toBe(2);
    expect(formatPropagation(summary, 0.2)).toMatch(/got the old copy: 0 \| 2 \| \*\*no\*\* \|/);
  });

  it("meets no target without samples", () => {
    expect(summarizePropagation([], 0).targetMet).toBe(false);
  });
});

describe("formatPropagation", () => {
  it("renders the three rows, the target verdict and the resolution", () => {
    const text = formatPropagation(summarizePropagation([sample(0.25), sample(1.5)], 1), 0.123);
    expect(text).toContain(
      "| the invalidation was applied: its first probe that got the new version | 2 | 0.250 | 1.500 | 1.500 |",
    );
    expect(text).toContain(
      "| propagation p99 ≤ 5 ms on loopback (first new version after it was applied) | 1.500 ms | yes |",
    );
    expect(text).toContain("p50 0.123 ms");
  });
});

const load = (p50Ms: number, rps = 1000): LoadSample => ({
  rps,
  p50Ms,
  p99Ms: p50Ms * 2,
  requests: 10,
  failures: 0,
});
const row = (name: string, p50Ms: number): ScenarioResult => ({
  name,
  description: name,
  cacheStatus: "apicache; hit",
  latency: load(p50Ms),
  throughput: load(p50Ms * 3),
});

describe("hits", () => {
  const results = [
    row(HIT_ROWS.floor, 0.1),
    row(HIT_ROWS.memory, 0.12),
    row(HIT_ROWS.l1, 0.15),
    row(HIT_ROWS.redis, 0.4),
  ];

  it("derives what an L1 hit costs from the one-connection p50s", () => {
    const [overMemory, overFloor, redisOverL1] = hitDifferences(results).map((d) => d.ms);
    expect(overMemory).toBeCloseTo(0.03, 9);
    expect(overFloor).toBeCloseTo(0.05, 9);
    expect(redisOverL1).toBeCloseTo(0.25, 9);
  });

  it("renders the table, the differences and what served each row", () => {
    const served = [{ name: HIT_ROWS.l1, requests: 200, hits: 200, redisReads: 1 }];
    const text = formatHits({ connections: 18, durationSeconds: 2, rounds: 3, results, served });
    expect(text).toContain("| scenario | req/s (18 conns) |");
    expect(text).toContain(`| ${HIT_ROWS.redis} | 1,000 | 0.400 |`);
    expect(text).toContain("| 0.030 | 0.150 − 0.120 ms |");
    expect(text).toContain(`| ${HIT_ROWS.l1} | 200 | 100.0% | 0.005 |`);
  });

  it("flags rows where not every response was a hit", () => {
    const served = [
      { name: "a", requests: 10, hits: 10, redisReads: 0 },
      { name: "b", requests: 10, hits: 9, redisReads: 10 },
      { name: "c", requests: 0, hits: 0, redisReads: 0 },
    ];
    expect(notAllHits(served).map((r) => r.name)).toEqual(["b", "c"]);
  });
});

const read = (endpoint: Sample["endpoint"], hit: boolean, latencyMs = 1): Sample => ({
  name: endpoint,
  endpoint,
  method: "GET",
  path: "/",
  status: 200,
  latencyMs,
  cache: hit ? "hit" : "miss",
  failed: false,
});

const phase = (replicas: number, samples: Sample[]): ReplicaPhase => ({
  replicas,
  samples,
  upstream: { reads: replicas * 10, total: replicas * 10 + 4 },
  checks: { verified: 4, stale: 0 },
  errors: [],
  primedKeys: 115,
});

describe("formatHitRatio", () => {
  const one = phase(1, [
    read("slots", true),
    read("slots", true),
    read("catalog", true),
    read("write", false),
  ]);
  const three = phase(3, [
    read("slots", true),
    read("slots", false),
    read("catalog", true),
    read("write", false),
  ]);
  const text = formatHitRatio(one, three);

  it("gives each endpoint's hit ratio for both phases, and all reads without the writes", () => {
    expect(text).toContain("| slots | 2 / 2 | 100.0% | 50.0% |");
    expect(text).toContain("| catalog | 1 / 1 | 100.0% | 100.0% |");
    expect(text).toContain("| **all reads** | 3 / 3 | 100.0% | 66.7% |");
  });

  it("leaves out endpoints neither phase requested", () => {
    expect(text).not.toContain("| analytics |");
  });

  it("gives the upstream requests and the checks of each phase", () => {
    expect(text).toContain("| upstream requests for reads (fills, revalidations, warming) | 10 | 30 |");
    expect(text).toContain("| reads after a write checked / stale | 4 / 0 | 4 / 0 |");
    expect(text).toContain("hit ratio, 3 replicas");
  });
});

describe("requests that did not succeed", () => {
  const answered = (status: number): Sample => ({
    ...read("write", false),
    status,
    failed: status === 0 || status >= 400,
  });
  const p = phase(3, [answered(200), answered(409), answered(404), answered(503), answered(0)]);

  it("tells the demo API's refusals (4xx) from failures (5xx, no answer)", () => {
    expect(refused(p)).toBe(2);
    expect(failed(p)).toBe(2);
    expect(formatHitRatio(phase(1, []), p)).toContain("| failed requests (5xx, or no answer) | 0 | 2 |");
  });
});

describe("sumMetric", () => {
  const text = [
    "# HELP apicache_requests_total Requests answered.",
    "# TYPE apicache_requests_total counter",
    'apicache_requests_total{policy="p",route="r",method="GET",outcome="hit"} 7',
    'apicache_requests_total{policy="p",route="r",method="GET",outcome="miss"} 2',
    'apicache_requests_total{policy="p",route="r",method="PUT",outcome="bypass"} 1',
    'apicache_requests_total_other{method="GET"} 100',
    'apicache_store_operation_duration_seconds_count{store="redis",operation="get"} 5',
    'apicache_store_operation_duration_seconds_count{store="redis",operation="set"} 3',
    'apicache_store_operation_duration_seconds_count{store="tiered",operation="get"} 11',
    "apicache_l1_invalidation_channel_up 1",
  ].join("\n");

  it("sums every series of one metric, and those whose labels match", () => {
    expect(sumMetric(text, "apicache_requests_total", { method: ["GET", "HEAD"] })).toEqual({
      matching: 9,
      total: 10,
    });
    expect(sumMetric(text, "apicache_requests_total", { outcome: ["hit"] }).matching).toBe(7);
  });

  it("requires every condition", () => {
    const where = { store: ["redis"], operation: ["get"] };
    expect(sumMetric(text, "apicache_store_operation_duration_seconds_count", where)).toEqual({
      matching: 5,
      total: 19,
    });
  });

  it("reads series without labels, and nothing of a metric that is absent", () => {
    expect(sumMetric(text, "apicache_l1_invalidation_channel_up").total).toBe(1);
    expect(sumMetric(text, "apicache_nothing")).toEqual({ matching: 0, total: 0 });
  });
});
