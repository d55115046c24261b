import type { Thresholds } from "../thresholds.js";
import type { ScenarioComparison } from "./stats.js";

/** One acceptance criterion of issue 4, measured. Pure. */
export interface Verdict {
  readonly criterion: string;
  readonly measured: string;
  readonly pass: boolean;
}

export interface RunHealth {
  readonly failed: number;
  readonly stale: number;
}

/** Writes issued one at a time with nothing else running, once V8 has warmed up (write-overhead.ts). */
export interface IsolatedWrites {
  readonly steady: { readonly directP50: number; readonly sidecarP50: number };
  readonly failed: number;
}

const pct = (value: number) => `${value.toFixed(1)}%`;
const formatDelta = (ms: number) => `${ms >= 0 ? "+" : ""}${ms.toFixed(2)} ms`;

export function readOnlyVerdicts(result: ScenarioComparison, health: RunHealth, t: Thresholds): Verdict[] {
  const verdicts = result.byEndpoint.map((c) => ({
    criterion: `${result.scenario}: ${c.label} p95 improved >= ${t.readOnlyMinEndpointP95ImprovementPercent}%`,
    measured: pct(c.p95Improvement),
    pass: c.p95Improvement >= t.readOnlyMinEndpointP95ImprovementPercent,
  }));
  return [...verdicts, ...healthVerdicts(result.scenario, health, t)];
}

export function mixedVerdicts(
  result: ScenarioComparison,
  health: RunHealth,
  t: Thresholds,
  isolated?: IsolatedWrites,
): Verdict[] {
  const slowdown = result.writes.after.p50 - result.writes.before.p50;
  const steady = isolated?.steady;
  const isolatedVerdicts: Verdict[] =
    isolated && steady
      ? [
          {
            criterion: `${result.scenario}: writes one at a time (warmed up), p50 through the sidecar at most ${t.maxWriteP50SlowdownMs} ms slower`,
            measured: `${formatDelta(steady.sidecarP50 - steady.directP50)} (${steady.directP50.toFixed(2)} → ${steady.sidecarP50.toFixed(2)} ms)`,
            pass: isolated.failed === 0 && steady.sidecarP50 - steady.directP50 <= t.maxWriteP50SlowdownMs,
          },
        ]
      : [];
  return [
    {
      criterion: `${result.scenario}: reads p95 improved >= ${t.mixedMinReadP95ImprovementPercent}%`,
      measured: pct(result.reads.p95Improvement),
      pass: result.reads.p95Improvement >= t.mixedMinReadP95ImprovementPercent,
    },
    {
      criterion: `${result.scenario}: overall mean improved >= ${t.mixedMinMeanImprovementPercent}%`,
      measured: pct(result.overall.meanImprovement),
      pass: result.overall.meanImprovement >= t.mixedMinMeanImprovementPercent,
    },
    {
      criterion: `${result.scenario}: writes p50 through the sidecar at most ${t.maxWriteP50SlowdownMs} ms slower`,
      measured: formatDelta(slowdown),
      pass: result.writes.before.n > 0 && result.writes.after.n > 0 && slowdown <= t.maxWriteP50SlowdownMs,
    },
    ...isolatedVerdicts,
    ...healthVerdicts(result.scenario, health, t),
  ];
}

function healthVerdicts(scenario: string, health: RunHealth, t: Thresholds): Verdict[] {
  return [
    {
      criterion: `${scenario}: failed responses <= ${t.maxFailedResponses}`,
      measured: String(health.failed),
      pass: health.failed <= t.maxFailedResponses,
    },
    {
      criterion: `${scenario}: stale reads after a write <= ${t.maxStaleReads}`,
      measured: String(health.stale),
      pass: health.stale <= t.maxStaleReads,
    },
  ];
}
