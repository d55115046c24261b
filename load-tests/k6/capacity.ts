/**
 * apicache capacity scenario for k6, run in your cluster: the highest arrival rate each path holds with
 * p95 within the scenario's SLO and no failed response, on the SAME ladder, request stream and SLO as
 * `make bench-capacity` (load-tests/thresholds.json "capacity"; see docs/load-testing.md).
 *
 *   k6 run -e TARGET=direct  -e BASE_URL=http://demo-api-direct.apicache-demo -e SCENARIO=mixed capacity.ts
 *     -> climbs start, start x factor, … and stops at the first rate that misses (exit code 99: that is how
 *        a capacity ladder ends); the summary names the highest rate that held
 *   k6 run -e TARGET=sidecar -e BASE_URL=http://demo-api.apicache-demo -e SCENARIO=mixed \
 *          -e START_RATE=<the direct capacity> capacity.ts
 * k6 climbs the ladder only (no bisection): its capacity is within one ladder step of the harness's.
 */
import { check } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter } from "k6/metrics";
import type { Options } from "k6/options";
import {
  arrivalAt,
  buildCapacityThresholds,
  type CapacityTargets,
  capacityPlan,
  phaseSeed,
  requestAt,
} from "./lib/capacity.ts";
import { createSampler, readKeySpace, type Scenario } from "./lib/sampler.ts";

const SCENARIO_NAME = __ENV.SCENARIO || "mixed";
const TARGET = __ENV.TARGET === "sidecar" ? "sidecar" : "direct";
const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const scenario = JSON.parse(open(`../scenarios/${SCENARIO_NAME}.json`)) as Scenario;
const file = JSON.parse(open("../thresholds.json")) as {
  capacity: CapacityTargets;
  maxFailedResponses: number;
};
const targets = file.capacity;
const plan = capacityPlan({
  targets,
  scenario: SCENARIO_NAME,
  start: __ENV.START_RATE ? Number(__ENV.START_RATE) : targets.start,
  factor: TARGET === "sidecar" ? targets.sidecarFactor : targets.factor,
});
const failedResponses = new Counter("apicache_failed_responses");

export const options: Options = {
  scenarios: {
    capacity: {
      executor: "ramping-arrival-rate",
      startRate: 0,
      timeUnit: "100s",
      stages: plan.stages,
      preAllocatedVUs: 50,
      maxVUs: 2000,
    },
  },
  thresholds: buildCapacityThresholds(plan, file.maxFailedResponses),
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

export default function (): void {
  const elapsed = (Date.now() - exec.scenario.startTime) / 1000;
  const arrival = arrivalAt(plan, elapsed);
  const request = requestAt(createSampler, scenario, phaseSeed(scenario, arrival.phase), arrival.index);
  const tags = { step: String(arrival.step), phase: arrival.phase, endpoint: request.endpoint };
  const response = http.request(request.method, `${BASE_URL}${request.path}`, request.body ?? null, {
    headers: { ...request.headers, ...(request.body ? { "content-type": "application/json" } : {}) },
    tags,
  });
  // A 409 (the barber's day is full: there is no cancellation pool here) is the API's right answer, as in
  // the harness (capacity-probe.ts pathFailed); every other non-2xx counts against the path.
  const ok = (r: { status: number }) => (r.status >= 200 && r.status < 300) || r.status === 409;
  if (!check(response, { "status is 2xx or 409": ok }, tags)) failedResponses.add(1, tags);
}

/** Per rate: p95 and failed responses of its window, and the highest rate that held. */
export function handleSummary(data: {
  metrics: Record<string, { values: Record<string, number> }>;
}): Record<string, string> {
  let capacity = 0;
  const lines: string[] = [];
  for (const [i, step] of plan.steps.entries()) {
    const latency = data.metrics[`http_req_duration{step:${i},phase:measure}`]?.values;
    if (!latency || !(latency.count ?? latency["p(95)"])) break;
    const p95 = latency["p(95)"] ?? Number.NaN;
    const failed = data.metrics[`apicache_failed_responses{step:${i},phase:measure}`]?.values.count ?? 0;
    const held = p95 <= plan.sloMs && failed <= file.maxFailedResponses;
    lines.push(
      `  ${String(step.rate).padStart(8)}/s  p95 ${p95.toFixed(1)} ms  failed ${failed}  ${held ? "held" : "missed"}`,
    );
    if (!held) break;
    capacity = step.rate;
  }
  return {
    stdout: `apicache capacity, ${scenario.name} via ${TARGET} (${BASE_URL}), p95 SLO ${plan.sloMs} ms:\n${lines.join("\n")}\n  capacity: ${capacity} requests/s\n`,
  };
}
