import { readFileSync } from "node:fs";

/** The improvement targets (load-tests/thresholds.json), shared with the k6 scripts. */
export interface Thresholds {
  readonly k6MinP95ImprovementPercent: number;
  readonly readOnlyMinEndpointP95ImprovementPercent: number;
  readonly mixedMinReadP95ImprovementPercent: number;
  readonly mixedMinMeanImprovementPercent: number;
  readonly maxWriteP50SlowdownMs: number;
  readonly maxFailedResponses: number;
  readonly maxStaleReads: number;
  readonly capacity: CapacityTargets;
}

/** The capacity search's SLO and ladder (make bench-capacity; the k6 capacity scenario reads the same). */
export interface CapacityTargets {
  /** Per scenario name: the p95 a rate must keep to count as sustained. */
  readonly sloP95Ms: Readonly<Record<string, number>>;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  readonly start: number;
  readonly factor: number;
  readonly sidecarFactor: number;
  readonly maxRate: number;
  readonly resolutionPercent: number;
  readonly equalLoadFraction: number;
  /** make demo's rate as a share of its calibrated ceiling (load-tests/src/demo/rate.ts). */
  readonly demoLoadFraction: number;
}

/** The SLO of a scenario; a scenario without one is a configuration error, said clearly. */
export function capacitySlo(targets: CapacityTargets, scenario: string): number {
  const slo = targets.sloP95Ms[scenario];
  if (slo === undefined)
    throw new Error(
      `load-tests/thresholds.json has no capacity.sloP95Ms for scenario ${JSON.stringify(scenario)} (have: ${Object.keys(targets.sloP95Ms).join(", ")})`,
    );
  return slo;
}

export const THRESHOLDS_FILE = new URL("../thresholds.json", import.meta.url);

export function loadThresholds(): Thresholds {
  return JSON.parse(readFileSync(THRESHOLDS_FILE, "utf8")) as Thresholds;
}
