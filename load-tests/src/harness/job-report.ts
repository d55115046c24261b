import type { Scenario } from "../scenario.js";
import type { PhaseResult } from "./run-scenario.js";
import { compareScenario, percentile, type ScenarioComparison } from "./stats.js";
import { formatMs, renderComparison } from "./table.js";

/**
 * What the in-cluster load Job reports (job-main.ts): one comparison per scenario, direct vs through the
 * injected sidecar. The Job prints it twice, as markdown for people and as one JSON line after
 * REPORT_MARKER for `make bench-cluster` and the cluster tier, which render the same markdown from the
 * JSON (renderJobReport). Pure.
 */
export const REPORT_MARKER = "APICACHE_BENCH_REPORT ";

export interface JobScenarioReport {
  readonly name: string;
  readonly arrivalRate: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly writeRatio: number;
  readonly seed: number;
  /** Distinct read keys the sidecar path read once before its warm-up (0: no priming). */
  readonly primedKeys: number;
  readonly primeMillis: number;
  /** Idempotent updates each path got before its phase. */
  readonly primedWrites: number;
  readonly comparison: ScenarioComparison;
  readonly failed: { readonly direct: number; readonly sidecar: number };
  /** Reads after a write: checked, and found stale (both paths). */
  readonly verified: number;
  readonly stale: number;
  readonly lagP99Ms: { readonly direct: number; readonly sidecar: number };
  /** Up to 10 distinct errors of both paths (transport errors, HTTP >= 400, stale reads). */
  readonly errors: readonly string[];
}

export interface JobReport {
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The machine as the Job's pod sees it (describeMachine). */
  readonly machine: string;
  readonly directUrl: string;
  readonly sidecarUrl: string;
  readonly scenarios: readonly JobScenarioReport[];
}

export function scenarioReport(
  scenario: Scenario,
  direct: PhaseResult,
  sidecar: PhaseResult,
): JobScenarioReport {
  const failed = (phase: PhaseResult) => phase.samples.filter((s) => s.failed).length;
  const stale = [...direct.checks.stale, ...sidecar.checks.stale].map(
    (x) => `stale: ${x.write} then ${x.read}: ${x.detail}`,
  );
  return {
    name: scenario.name,
    arrivalRate: scenario.arrivalRate,
    durationSeconds: scenario.durationSeconds,
    warmupSeconds: scenario.warmupSeconds,
    writeRatio: scenario.writeRatio,
    seed: scenario.seed,
    primedKeys: sidecar.primedKeys,
    primeMillis: sidecar.primeMillis,
    primedWrites: direct.primedWrites,
    comparison: compareScenario(scenario.name, direct.samples, sidecar.samples),
    failed: { direct: failed(direct), sidecar: failed(sidecar) },
    verified: direct.checks.verified + sidecar.checks.verified,
    stale: stale.length,
    lagP99Ms: {
      direct: percentile(direct.schedulerLagMs, 99),
      sidecar: percentile(sidecar.schedulerLagMs, 99),
    },
    errors: [...new Set([...stale, ...direct.errors, ...sidecar.errors])].slice(0, 10),
  };
}

export function renderScenario(s: JobScenarioReport): string {
  const notes = [
    `${s.arrivalRate} requests/s (open model) for ${s.durationSeconds} s after a ${s.warmupSeconds} s warm-up, ` +
      `${Math.round(s.writeRatio * 100)}% writes; the same request stream (seed ${s.seed}) on both paths, direct first.`,
    s.primedWrites > 0
      ? `Before each phase, ${s.primedWrites} idempotent updates (PUT) went through its path one at a time.`
      : "",
    s.primedKeys > 0
      ? `Before its warm-up the sidecar path read each of the scenario's ${s.primedKeys} distinct read keys once (${(s.primeMillis / 1000).toFixed(1)} s).`
      : "",
    `Failed responses: ${s.failed.direct} direct, ${s.failed.sidecar} through the sidecar. ` +
      `Reads after a write checked: ${s.verified}, stale: ${s.stale}. ` +
      `Load generator lag p99: ${formatMs(s.lagP99Ms.direct)} (direct), ${formatMs(s.lagP99Ms.sidecar)} (sidecar).`,
  ].filter(Boolean);
  const parts = [`### Scenario \`${s.name}\``, "", notes.join(" "), "", renderComparison(s.comparison)];
  if (s.errors.length > 0) parts.push("", ...s.errors.map((e) => `- ${e}`));
  return parts.join("\n");
}

export function renderJobReport(report: JobReport): string {
  return report.scenarios.map(renderScenario).join("\n\n");
}

/** The JSON line the Job prints last (NaN, e.g. the p50 of no writes, becomes null). */
export function reportLine(report: JobReport): string {
  return `${REPORT_MARKER}${JSON.stringify(report)}`;
}

export type ReadReport = { ok: true; report: JobReport } | { ok: false; problem: string };

/** The report in a Job's log: its last REPORT_MARKER line, nulls read back as NaN. */
export function readJobReport(log: string): ReadReport {
  const line = log
    .split("\n")
    .reverse()
    .find((l) => l.startsWith(REPORT_MARKER));
  if (line === undefined)
    return { ok: false, problem: `no "${REPORT_MARKER.trim()}" line in the Job's log (did it finish?)` };
  let value: unknown;
  try {
    value = JSON.parse(line.slice(REPORT_MARKER.length), (_key, v) => (v === null ? Number.NaN : v));
  } catch (error) {
    return { ok: false, problem: `the report line is not JSON: ${(error as Error).message}` };
  }
  const report = value as Partial<JobReport>;
  if (report.version !== 1 || !Array.isArray(report.scenarios))
    return { ok: false, problem: "the report line is not a version 1 report with scenarios" };
  const broken = report.scenarios.find((s) => typeof s?.comparison?.reads?.before?.n !== "number");
  if (broken !== undefined)
    return { ok: false, problem: `scenario ${JSON.stringify(broken?.name)} has no comparison` };
  return { ok: true, report: report as JobReport };
}
