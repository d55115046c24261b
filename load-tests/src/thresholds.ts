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
}

export const THRESHOLDS_FILE = new URL("../thresholds.json", import.meta.url);

export function loadThresholds(): Thresholds {
  return JSON.parse(readFileSync(THRESHOLDS_FILE, "utf8")) as Thresholds;
}
