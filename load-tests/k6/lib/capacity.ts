/**
 * The capacity scenario for k6 (load-tests/k6/capacity.ts), pure and self-contained like sampler.ts:
 * the same ladder of rates, the same request stream and the same per-rate thresholds as the local
 * harness's capacity search (load-tests/src/harness/capacity-*.ts); load-tests/src/k6-capacity.test.ts
 * checks they agree. k6 cannot bisect, so it climbs the ladder only: each rate is a warm-up then a judged
 * window, and the run aborts at the first rate whose window misses (abortOnFail), like the harness's climb.
 */
import type { Request, Scenario } from "./sampler.ts";

/** load-tests/thresholds.json "capacity". */
export interface CapacityTargets {
  sloP95Ms: Record<string, number>;
  windowSeconds: number;
  warmupSeconds: number;
  start: number;
  factor: number;
  sidecarFactor: number;
  maxRate: number;
}

export const roundRate = (rate: number): number => Math.max(0.01, Math.round(rate * 100) / 100);

/** start, start x factor, …, the last clamped to maxRate, in steps of 0.01/s. */
export function ladder(start: number, factor: number, maxRate: number): number[] {
  const rates: number[] = [];
  for (let rate = start; ; rate *= factor) {
    const next = roundRate(Math.min(rate, maxRate));
    if (rates[rates.length - 1] !== next) rates.push(next);
    if (rate >= maxRate) return rates;
  }
}

export interface Step {
  rate: number;
  /** Seconds from the scenario's start. */
  startsAt: number;
  measureFrom: number;
  endsAt: number;
}

export interface CapacityPlan {
  steps: Step[];
  /** ramping-arrival-rate stages (timeUnit 100s): jump to each rate, hold it for warm-up + window. */
  stages: { target: number; duration: string }[];
  sloMs: number;
}

export function capacityPlan(input: {
  targets: CapacityTargets;
  scenario: string;
  start: number;
  factor: number;
}): CapacityPlan {
  const { targets } = input;
  const sloMs = targets.sloP95Ms[input.scenario];
  if (sloMs === undefined) throw new Error(`thresholds.json has no capacity SLO for ${input.scenario}`);
  const hold = targets.warmupSeconds + targets.windowSeconds;
  const steps = ladder(input.start, input.factor, targets.maxRate).map((rate, i) => ({
    rate,
    startsAt: i * hold,
    measureFrom: i * hold + targets.warmupSeconds,
    endsAt: (i + 1) * hold,
  }));
  const stages = steps.flatMap((s) => [
    { target: Math.round(s.rate * 100), duration: "0s" },
    { target: Math.round(s.rate * 100), duration: `${hold}s` },
  ]);
  return { steps, stages, sloMs };
}

/** Per step, the harness's verdict as k6 thresholds: p95 within the SLO, failed responses within the limit. */
export function buildCapacityThresholds(plan: CapacityPlan, maxFailedResponses: number) {
  const thresholds: Record<string, { threshold: string; abortOnFail: boolean }[]> = {};
  plan.steps.forEach((_, i) => {
    thresholds[`http_req_duration{step:${i},phase:measure}`] = [
      { threshold: `p(95)<=${plan.sloMs}`, abortOnFail: true },
    ];
    thresholds[`apicache_failed_responses{step:${i},phase:measure}`] = [
      { threshold: `count<=${maxFailedResponses}`, abortOnFail: true },
    ];
  });
  return thresholds;
}

/** Where an arrival at `elapsedSeconds` falls: its step, phase and index in that phase's stream. */
export function arrivalAt(plan: CapacityPlan, elapsedSeconds: number) {
  const i = plan.steps.findIndex((s) => elapsedSeconds < s.endsAt);
  const step = plan.steps[i < 0 ? plan.steps.length - 1 : i] as Step;
  const measure = elapsedSeconds >= step.measureFrom;
  const from = measure ? step.measureFrom : step.startsAt;
  // Arrival k of a phase is due at from + k / rate; a small lateness must not skip to k + 1.
  const index = Math.max(0, Math.floor((elapsedSeconds - from) * step.rate + 1e-6));
  return { step: i < 0 ? plan.steps.length - 1 : i, phase: measure ? "measure" : "warmup", index } as const;
}

/** The seed of each phase's stream: the harness's probes use the same (capacity-stream.ts). */
export function phaseSeed(scenario: Scenario, phase: "warmup" | "measure"): number {
  return phase === "measure" ? scenario.seed : scenario.seed + 1_000_003;
}

/**
 * Request `index` of a stream: the first draw of a sampler (sampler.ts createSampler, passed in) seeded
 * from (seed, index), so any VU can compute any arrival's request without replaying the stream. (No
 * cancellation pool: a cancel drawn here becomes the booking that feeds it, as when the pool is empty.)
 */
export function requestAt(
  createSampler: (scenario: Scenario, seed: number) => { next(): Request },
  scenario: Scenario,
  seed: number,
  index: number,
): Request {
  return createSampler(scenario, mixSeed(seed, index)).next();
}

export function mixSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
