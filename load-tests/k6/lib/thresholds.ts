/**
 * The k6 thresholds, built from load-tests/thresholds.json (shared with the local harness; a unit test
 * checks they agree). A k6 threshold cannot compare two runs, so the sidecar run takes the direct
 * run's per-endpoint p95 (the baseline) and requires p95 < (1 - improvement) x baseline.
 */
export interface Targets {
  k6MinP95ImprovementPercent: number;
  maxFailedResponses: number;
  maxStaleReads: number;
}

export interface Baseline {
  scenario: string;
  target: string;
  p95Ms: Record<string, number>;
}

export function buildThresholds(input: {
  endpoints: string[];
  targets: Targets;
  baseline?: Baseline;
}): Record<string, string[]> {
  const factor = 1 - input.targets.k6MinP95ImprovementPercent / 100;
  const thresholds: Record<string, string[]> = {
    "apicache_failed_responses{phase:measure}": [`count<=${input.targets.maxFailedResponses}`],
    apicache_stale_reads: [`count<=${input.targets.maxStaleReads}`],
  };
  for (const endpoint of input.endpoints) {
    const before = input.baseline?.p95Ms[endpoint];
    // Without a baseline the threshold only makes k6 report the per-endpoint p95 (handleSummary reads it).
    thresholds[`http_req_duration{endpoint:${endpoint},phase:measure}`] = [
      before !== undefined && Number.isFinite(before) ? `p(95)<${(before * factor).toFixed(1)}` : "p(95)>=0",
    ];
  }
  return thresholds;
}
