import type { Thresholds } from "../thresholds.js";
import { mixedVerdicts, readOnlyVerdicts, type Verdict } from "./acceptance.js";
import { improvementOverstatement, renderDashboardCheck, TOLERANCE_PP } from "./dashboard-compare.js";
import type { ScenarioOutcome } from "./side-by-side.js";
import { percentile } from "./stats.js";
import { renderComparison, renderVerdicts } from "./table.js";
import type { WriteOverhead, WriteWindow } from "./write-overhead.js";

/** The printed/recorded report of a side-by-side run. */
export function verdictsFor(outcome: ScenarioOutcome, thresholds: Thresholds): Verdict[] {
  const own =
    outcome.scenario.writeRatio > 0
      ? mixedVerdicts(outcome.comparison, outcome.health, thresholds, outcome.writeOverhead)
      : readOnlyVerdicts(outcome.comparison, outcome.health, thresholds);
  const panels = (outcome.dashboard?.verdicts ?? []).map((v) => ({
    criterion: `${outcome.scenario.name}: dashboard panel "${v.title}" agrees with the harness`,
    measured: Number.isFinite(v.differencePp) ? `${v.differencePp.toFixed(1)} pp` : "no data",
    pass: v.ok,
  }));
  const over = outcome.dashboard && improvementOverstatement(outcome.dashboard.verdicts, outcome.comparison);
  const flatters = over
    ? [
        {
          criterion: `${outcome.scenario.name}: dashboard panel "Improvement" at most ${TOLERANCE_PP} pp above the mean improvement over the direct path`,
          measured: Number.isFinite(over.differencePp) ? `${over.differencePp.toFixed(1)} pp` : "no data",
          pass: over.ok,
        },
      ]
    : [];
  return [...own, ...panels, ...flatters];
}

function describeDashboardCheck(outcome: ScenarioOutcome): string[] {
  const check = outcome.dashboard;
  if (!check) return [];
  const seconds = ((check.evaluatedAtMs - check.fromMs) / 1000).toFixed(0);
  return [
    "",
    "The dashboard's headline panels (their queries from `monitoring/generated/apicache-dashboard.json`, " +
      `the time range set to the measured run, ${seconds} s), evaluated by a real Prometheus that scraped ` +
      "the sidecar every second with the shipped recording rules, next to the harness's own figures:",
    "",
    renderDashboardCheck(check.verdicts),
    "",
    `The bench's own mean improvement over the direct path is ${outcome.comparison.overall.meanImprovement.toFixed(1)}%: ` +
      "it also counts the queueing the cache took off the API, which the sidecar's metrics cannot see (the panel " +
      "prices each request at what the API took behind the cache; docs/adr/0026). The panel may read lower than " +
      `that, never more than ${TOLERANCE_PP} pp higher (a criterion below).`,
  ];
}

export function renderOutcome(outcome: ScenarioOutcome, thresholds?: Thresholds): string {
  const s = outcome.scenario;
  const lagDirect = percentile(outcome.direct.schedulerLagMs, 99);
  const lagSidecar = percentile(outcome.sidecar.schedulerLagMs, 99);
  const notes = [
    `${s.arrivalRate} requests/s (open model) for ${s.durationSeconds} s after a ${s.warmupSeconds} s warm-up, ` +
      `${Math.round(s.writeRatio * 100)}% writes; the same request stream (seed ${s.seed}) on both paths.`,
    outcome.direct.primedWrites > 0
      ? `Before each phase, ${outcome.direct.primedWrites} idempotent updates (PUT) went through its path one at a time, so the API's and the sidecar's write paths run optimized code, as in a long-running deployment.`
      : "",
    outcome.sidecar.primedKeys > 0
      ? `Before its warm-up the sidecar path read each of the scenario's ${outcome.sidecar.primedKeys} distinct read keys once (${(outcome.sidecar.primeMillis / 1000).toFixed(1)} s): a cache in steady state.`
      : "",
    `Failed responses: ${outcome.health.failed}. Reads after a write checked: ${outcome.health.verified}, stale: ${outcome.health.stale}. ` +
      `Load generator lag p99: ${lagDirect.toFixed(1)} ms (direct), ${lagSidecar.toFixed(1)} ms (sidecar).`,
    outcome.writeOverhead ? describeIsolatedWrites(outcome.writeOverhead) : "",
  ].filter(Boolean);
  const stale = [...outcome.direct.checks.stale, ...outcome.sidecar.checks.stale].map(
    (x) => `- stale: ${x.write} then ${x.read}: ${x.detail}`,
  );
  const errors = [...new Set([...outcome.direct.errors, ...outcome.sidecar.errors])]
    .slice(0, 10)
    .map((e) => `- error: ${e}`);
  const parts = [`### Scenario \`${s.name}\``, "", notes.join(" "), "", renderComparison(outcome.comparison)];
  if (stale.length + errors.length > 0) parts.push("", ...stale, ...errors);
  parts.push(...describeDashboardCheck(outcome));
  if (thresholds) parts.push("", renderVerdicts(verdictsFor(outcome, thresholds)));
  return parts.join("\n");
}

function describeIsolatedWrites(w: WriteOverhead): string {
  const window = (x: WriteWindow) =>
    `p50 ${x.directP50.toFixed(2)} ms direct, ${x.sidecarP50.toFixed(2)} ms through the sidecar (${x.pairs} pairs)`;
  return (
    `Writes one at a time with nothing else running, alternating direct and sidecar: right after the scenario ${window(w.cold)}; ` +
    `after ${w.warmUpPairs} more pairs (V8 has optimized both write paths) ${window(w.steady)}. Failed: ${w.failed}.`
  );
}
