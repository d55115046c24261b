import { type ConcreteRequest, createSampler, type Sampler } from "../sampler.js";
import type { Scenario } from "../scenario.js";

/**
 * The request stream of a capacity probe, indexable: arrival i of a phase is the first draw of a
 * sampler seeded from (the phase's seed, i). The k6 capacity scenario computes the same request for
 * the same arrival from any VU (load-tests/k6/lib/capacity.ts; k6-capacity.test.ts checks they agree).
 * Without replay there is no cancellation pool: a cancellation drawn becomes the booking that would
 * feed it, as when the pool is empty.
 */
export function phaseSeed(scenario: Scenario, phase: "warmup" | "measure"): number {
  return phase === "measure" ? scenario.seed : scenario.seed + 1_000_003;
}

export function mixSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export function requestAt(scenario: Scenario, seed: number, index: number): ConcreteRequest {
  return createSampler(scenario, mixSeed(seed, index)).next();
}

/** A Sampler over the indexed stream (give is a no-op: there is no pool). */
export function capacitySampler(scenario: Scenario, phase: "warmup" | "measure"): Sampler {
  const seed = phaseSeed(scenario, phase);
  let index = 0;
  return { next: () => requestAt(scenario, seed, index++), give: () => {} };
}
