/**
 * apicache side-by-side load test for k6, run in your cluster: once against the API directly, once
 * through the sidecar, with the SAME scenario file as the local harness (load-tests/scenarios/*.json)
 * and the SAME targets (load-tests/thresholds.json). See docs/load-testing.md.
 *
 *   k6 run -e TARGET=direct  -e BASE_URL=http://demo-api-direct.apicache-demo -e SCENARIO=mixed side-by-side.ts
 *     -> writes baseline-mixed.json (per-endpoint p95 of the direct run)
 *   k6 run -e TARGET=sidecar -e BASE_URL=http://demo-api.apicache-demo -e SCENARIO=mixed \
 *          -e BASELINE=baseline-mixed.json side-by-side.ts
 *     -> fails (exit code 99) when an endpoint's p95 improved by less than k6MinP95ImprovementPercent,
 *        when any response failed, or when a read after a write returned the old data.
 */
import { check } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Rate } from "k6/metrics";
import type { Options } from "k6/options";
import { createSampler, isStale, type Request, readKeySpace, type Scenario } from "./lib/sampler.ts";
import { type Baseline, buildThresholds, type Targets } from "./lib/thresholds.ts";

const SCENARIO_NAME = __ENV.SCENARIO || "mixed";
const TARGET = __ENV.TARGET === "sidecar" ? "sidecar" : "direct";
const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const scenario = JSON.parse(open(`../scenarios/${SCENARIO_NAME}.json`)) as Scenario;
const targets = JSON.parse(open("../thresholds.json")) as Targets;
const baseline: Baseline | undefined = __ENV.BASELINE
  ? (JSON.parse(open(__ENV.BASELINE)) as Baseline)
  : undefined;
const endpoints = [...new Set(scenario.reads.map((r) => r.endpoint))];

const cacheHits = new Rate("apicache_hit");
const staleReads = new Counter("apicache_stale_reads");
const failedResponses = new Counter("apicache_failed_responses");

const rate = Math.max(1, Math.round(scenario.arrivalRate * 100));
const arrival = {
  executor: "constant-arrival-rate",
  rate,
  timeUnit: "100s",
  preAllocatedVUs: 20,
  maxVUs: 500,
} as const;

export const options: Options = {
  scenarios: {
    warmup: { ...arrival, duration: `${Math.max(1, scenario.warmupSeconds)}s`, tags: { phase: "warmup" } },
    measure: {
      ...arrival,
      duration: `${scenario.durationSeconds}s`,
      startTime: `${Math.max(1, scenario.warmupSeconds)}s`,
      tags: { phase: "measure" },
    },
  },
  thresholds: buildThresholds({ endpoints, targets, ...(baseline ? { baseline } : {}) }),
  summaryTrendStats: ["avg", "med", "p(95)", "p(99)", "max"],
};

/** Through the sidecar: read every key of the scenario once first (a cache in steady state). */
export function setup(): void {
  if (TARGET !== "sidecar" || !scenario.primeCache) return;
  for (const request of readKeySpace(scenario)) {
    http.request("GET", `${BASE_URL}${request.path}`, null, {
      headers: request.headers,
      tags: { phase: "prime" },
    });
  }
}

// One sampler per VU; the seed differs per VU so the VUs do not replay each other's stream.
const sampler = createSampler(scenario, scenario.seed + 7919 * __VU);

export default function (): void {
  const request = sampler.next();
  const phase = exec.scenario.name === "measure" ? "measure" : "warmup";
  const tags = { endpoint: request.endpoint, name: request.name, phase };
  const response = http.request(request.method, `${BASE_URL}${request.path}`, request.body ?? null, {
    headers: { ...request.headers, ...(request.body ? { "content-type": "application/json" } : {}) },
    tags,
  });
  const cacheStatus = String(response.headers["Cache-Status"] ?? "");
  if (request.endpoint !== "write") cacheHits.add(/(^|,)\s*apicache;[^,]*\bhit\b/.test(cacheStatus), tags);
  const ok = check(response, { "status is 2xx": (r) => r.status >= 200 && r.status < 300 }, tags);
  if (!ok) failedResponses.add(1, tags);
  if (request.endpoint === "write" && response.status < 300)
    verifyAfterWrite(request, response.json() as unknown);
}

function verifyAfterWrite(request: Request, written: unknown): void {
  const spec = request.template.check;
  if (spec?.read) {
    const path = spec.read.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (m, name: string) =>
      name in request.values ? String(request.values[name]) : m,
    );
    const read = http.get(`${BASE_URL}${path}`, {
      tags: { endpoint: "check", name: `check-${request.name}` },
    });
    const stale = read.status === 200 && isStale(spec.kind, spec.item, written, read.json());
    if (stale) staleReads.add(1);
    check(read, { "fresh after write": () => !stale }, { check: "fresh-after-write" });
  }
  const id = (written as { id?: unknown } | null)?.id;
  if (request.template.gives && typeof id === "number") sampler.give(id);
}

/** Prints the per-endpoint p95s; the direct run also saves them as the baseline for the sidecar run. */
export function handleSummary(data: {
  metrics: Record<string, { values: Record<string, number> }>;
}): Record<string, string> {
  const result: Baseline = { scenario: scenario.name, target: TARGET, p95Ms: {} };
  for (const endpoint of endpoints) {
    const metric = data.metrics[`http_req_duration{endpoint:${endpoint},phase:measure}`];
    if (metric) result.p95Ms[endpoint] = metric.values["p(95)"] ?? Number.NaN;
  }
  const lines = endpoints.map((e) => {
    const now = result.p95Ms[e];
    const before = baseline?.p95Ms[e];
    const gain =
      before && now !== undefined
        ? ` (direct ${before.toFixed(1)} ms, improvement ${(((before - now) / before) * 100).toFixed(1)}%)`
        : "";
    return `  ${e.padEnd(10)} p95 ${now?.toFixed(1) ?? "-"} ms${gain}`;
  });
  const text = `apicache ${scenario.name} via ${TARGET} (${BASE_URL}):\n${lines.join("\n")}\n`;
  return TARGET === "direct"
    ? { stdout: text, [`baseline-${scenario.name}.json`]: JSON.stringify(result, null, 2) }
    : { stdout: text };
}
