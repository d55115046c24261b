import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as k6 from "../k6/lib/capacity.js";
import { type Scenario as K6Scenario, createSampler as k6Sampler } from "../k6/lib/sampler.js";
import { holds, ladder } from "./harness/capacity-search.js";
import { capacitySampler, phaseSeed } from "./harness/capacity-stream.js";
import { loadScenario } from "./scenario-files.js";
import { capacitySlo, loadThresholds } from "./thresholds.js";

const REPO = new URL("../../", import.meta.url).pathname;
const thresholds = loadThresholds();
const targets = thresholds.capacity;
const scenarios = Object.keys(targets.sloP95Ms);

describe("the k6 capacity scenario and bench-capacity", () => {
  it("read the same scenario and targets files", () => {
    const script = readFileSync(`${REPO}load-tests/k6/capacity.ts`, "utf8");
    expect(script).toContain('open("../thresholds.json")');
    expect(script).toContain(["open(`../scenarios/$", "{SCENARIO_NAME}.json`)"].join(""));
    expect(script).toContain('executor: "ramping-arrival-rate"');
  });

  it.each([
    ["direct", targets.start, targets.factor],
    ["sidecar from 2.37/s", 2.37, targets.sidecarFactor],
  ])("climb the same ladder (%s)", (_, start, factor) => {
    const plan = k6.capacityPlan({ targets, scenario: "mixed", start, factor });
    const ours = ladder({ start, factor, maxRate: targets.maxRate });
    expect(plan.steps.map((s) => s.rate)).toEqual(ours);
    // Each rate: an instant jump, then a hold of warm-up + window, at rate x 100 per 100 s.
    expect(plan.stages).toHaveLength(2 * ours.length);
    expect(plan.stages[1]).toEqual({
      target: Math.round((ours[0] as number) * 100),
      duration: `${targets.warmupSeconds + targets.windowSeconds}s`,
    });
  });

  it.each(scenarios)("judge each rate by the same SLO and failure limit (%s)", (name) => {
    const plan = k6.capacityPlan({ targets, scenario: name, start: targets.start, factor: targets.factor });
    const built = k6.buildCapacityThresholds(plan, thresholds.maxFailedResponses);
    const slo = capacitySlo(targets, name);
    for (const i of plan.steps.keys()) {
      const [latency] = built[`http_req_duration{step:${i},phase:measure}`] ?? [];
      const [failures] = built[`apicache_failed_responses{step:${i},phase:measure}`] ?? [];
      expect(latency?.threshold).toBe(`p(95)<=${slo}`);
      expect(failures?.threshold).toBe(`count<=${thresholds.maxFailedResponses}`);
      // The k6 expressions, evaluated, agree with the harness's verdict on either side of the limits.
      const k6Holds = (p95: number, failed: number) =>
        p95 <= Number(latency?.threshold.split("<=")[1]) &&
        failed <= Number(failures?.threshold.split("<=")[1]);
      for (const [p95, failed] of [
        [slo, 0],
        [slo + 0.5, 0],
        [slo / 2, thresholds.maxFailedResponses + 1],
        [1, thresholds.maxFailedResponses],
      ] as const) {
        expect(k6Holds(p95, failed)).toBe(
          holds({ p95, failed, sloMs: slo, maxFailed: thresholds.maxFailedResponses }),
        );
      }
    }
  });

  it.each(scenarios)("send the same request for every arrival of a probe (%s)", (name) => {
    const scenario = loadScenario(name);
    for (const phase of ["warmup", "measure"] as const) {
      const ours = capacitySampler(scenario, phase);
      expect(k6.phaseSeed(scenario as unknown as K6Scenario, phase)).toBe(phaseSeed(scenario, phase));
      for (let i = 0; i < 300; i++) {
        const a = ours.next();
        const b = k6.requestAt(k6Sampler, scenario as unknown as K6Scenario, phaseSeed(scenario, phase), i);
        expect({ method: b.method, path: b.path, headers: b.headers, body: b.body }).toEqual({
          method: a.method,
          path: a.path,
          headers: a.headers,
          body: a.body,
        });
      }
    }
  });

  it("maps each arrival's time to the harness's step, phase and index", () => {
    const plan = k6.capacityPlan({ targets, scenario: "mixed", start: 1.5, factor: targets.factor });
    for (const [i, step] of plan.steps.slice(0, 3).entries()) {
      // The harness issues arrival k of a phase at its start + k / rate (open-loop.ts); the last
      // arrival of the warm-up is the one before its end (warmupSeconds × rate arrivals).
      const last = Math.ceil((step.measureFrom - step.startsAt) * step.rate) - 1;
      expect(last).toBeGreaterThan(1);
      for (const k of [0, 1, last]) {
        expect(k6.arrivalAt(plan, step.startsAt + k / step.rate)).toEqual({
          step: i,
          phase: "warmup",
          index: k,
        });
        expect(k6.arrivalAt(plan, step.measureFrom + k / step.rate + 0.0004)).toEqual({
          step: i,
          phase: "measure",
          index: k,
        });
      }
    }
  });

  it("varies the stream: arrivals draw different requests", () => {
    const scenario = loadScenario("mixed");
    const sampler = capacitySampler(scenario, "measure");
    const paths = new Set(Array.from({ length: 200 }, () => sampler.next().path));
    expect(paths.size).toBeGreaterThan(50);
  });
});
