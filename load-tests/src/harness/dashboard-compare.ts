/**
 * The dashboard's headline panels next to the harness's own figures for the same window: which panel
 * answers which harness figure, the difference in percentage points, and the printed table. Pure.
 */
import { pricedImprovement } from "./priced-improvement.js";
import type { RouteOf } from "./sidecar-route.js";
import type { Sample, ScenarioComparison, TimedRequest } from "./stats.js";

/** What the harness knows about the sidecar phase's measured run. */
export interface HarnessRun {
  readonly comparison: ScenarioComparison;
  /** The sidecar path's measured requests. */
  readonly samples: readonly Sample[];
  /** What it answered before them: the priming reads, the warm-up and the warm-up's write checks. */
  readonly earlierSamples: readonly TimedRequest[];
  /**
   * The reads that verified writes: sent through the sidecar during the run, so in its counters, but
   * not among the samples the comparison table is made of.
   */
  readonly checkReads: readonly TimedRequest[];
  /** The route the sidecar labels a request with, from the policy it runs (sidecar-route.ts). */
  readonly routeOf: RouteOf;
}

/** A headline panel (by its title in the generated dashboard) and the harness figure it must agree with. */
export interface HeadlinePanel {
  readonly title: string;
  /** What the harness figure is, for the table. */
  readonly harnessFigure: string;
  /** The harness's figure as a ratio (0–1). */
  readonly harness: (run: HarnessRun) => number;
}

const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : Number.NaN);
const hitsOf = (requests: readonly TimedRequest[]) => requests.filter((r) => r.cache === "hit").length;

/**
 * The three panels the issue names. Harness figures, each counting the reads that verified writes
 * (they went through the sidecar): the improvement as the panel defines it, over the requests the
 * sidecar labels with a route, each priced at what its route took when the sidecar forwarded it
 * (priced-improvement.ts; the mean improvement over the direct path is printed beside it, ADR 0026),
 * the hit ratio of the reads (the dashboard's denominator is cache candidates; writes are bypass) and
 * the share of requests answered without the upstream.
 */
export const HEADLINE_PANELS: readonly HeadlinePanel[] = [
  {
    title: "Improvement",
    harnessFigure: "routed requests and write checks, each priced at its route's time when forwarded",
    harness: ({ samples, checkReads, earlierSamples, routeOf }) =>
      pricedImprovement<TimedRequest>([...samples, ...checkReads], earlierSamples, (r) =>
        routeOf(r.method, r.path),
      ),
  },
  {
    title: "Hit ratio",
    harnessFigure: "hit ratio, reads and write checks",
    harness: ({ comparison: { reads }, checkReads }) =>
      ratio(reads.after.hits + hitsOf(checkReads), reads.after.n + checkReads.length),
  },
  {
    title: "Upstream requests saved",
    harnessFigure: "answered without the API, all requests and write checks",
    harness: ({ comparison: { overall }, checkReads }) =>
      ratio(overall.upstreamSaved + hitsOf(checkReads), overall.after.n + checkReads.length),
  },
];

/** Panels may differ from the harness by at most this many percentage points. */
export const TOLERANCE_PP = 5;

/**
 * The Improvement panel against the real "before", the direct path. It may read lower (it cannot see
 * the queueing the cache took off the API, ADR 0026) but never higher by more than the tolerance: a
 * headline above what clients gained over no cache at all is a panel that flatters. The check the
 * priced figure cannot make, since it shares the panel's definition. Undefined without the panel.
 */
export function improvementOverstatement(
  verdicts: readonly PanelVerdict[],
  comparison: ScenarioComparison,
  tolerancePp = TOLERANCE_PP,
): { readonly differencePp: number; readonly ok: boolean } | undefined {
  const panel = verdicts.find((v) => v.title === "Improvement");
  if (panel === undefined) return undefined;
  const differencePp =
    panel.dashboard === undefined ? Number.NaN : panel.dashboard * 100 - comparison.overall.meanImprovement;
  return { differencePp, ok: Number.isFinite(differencePp) && differencePp <= tolerancePp };
}

export interface PanelReading {
  readonly title: string;
  readonly harnessFigure: string;
  /** The panel's value (a ratio), undefined when the query returned nothing ("No data"). */
  readonly dashboard: number | undefined;
  readonly harness: number;
  /** The query sent to Prometheus, variables resolved. */
  readonly query: string;
}

export interface PanelVerdict extends PanelReading {
  /** dashboard − harness, in percentage points (NaN without a dashboard value). */
  readonly differencePp: number;
  readonly ok: boolean;
}

export function judgePanels(readings: readonly PanelReading[], tolerancePp = TOLERANCE_PP): PanelVerdict[] {
  return readings.map((r) => {
    const differencePp = r.dashboard === undefined ? Number.NaN : (r.dashboard - r.harness) * 100;
    return { ...r, differencePp, ok: Number.isFinite(differencePp) && Math.abs(differencePp) <= tolerancePp };
  });
}

const percent = (ratio: number | undefined) =>
  ratio === undefined ? "no data" : Number.isFinite(ratio) ? `${(ratio * 100).toFixed(1)}%` : "–";
const points = (pp: number) => (Number.isFinite(pp) ? `${pp >= 0 ? "+" : ""}${pp.toFixed(1)} pp` : "–");

export function renderDashboardCheck(verdicts: readonly PanelVerdict[], tolerancePp = TOLERANCE_PP): string {
  return [
    `| panel | dashboard | harness | harness figure | difference | within ${tolerancePp} pp |`,
    "|---|---:|---:|---|---:|---|",
    ...verdicts.map(
      (v) =>
        `| ${v.title} | ${percent(v.dashboard)} | ${percent(v.harness)} | ${v.harnessFigure} | ${points(v.differencePp)} | ${v.ok ? "ok" : "**FAIL**"} |`,
    ),
  ].join("\n");
}
