import { sidecarMemoryLimitBytes } from "@apicache/crds";

/**
 * The soak's verdict (ADR 0023), pure: the samples of one sidecar process over a run, the faults it
 * went through and what the load's checker judged, in; figures and the problems that fail the run,
 * out. After a warm-up, lines are fitted to RSS and to descriptors: memory and descriptors must not
 * grow, the event loop must keep up, and no answer may be wrong, stale, cross-user or a cache error.
 */

const MiB = 1024 * 1024;
const HOUR_MS = 3_600_000;

export interface SoakSample {
  /** Milliseconds since the run started. */
  readonly at: number;
  readonly rssBytes: number;
  /** The anonymous part of RSS (RssAnon): RSS less the file-backed pages (node's binary, libraries). */
  readonly rssAnonBytes: number;
  readonly heapUsedBytes: number;
  readonly fds: number;
  readonly sockets: number;
  /** The event-loop delay's p99 over the interval since the previous sample, beyond the timer's own interval. */
  readonly loopP99Ms: number;
  readonly l1Bytes: number;
}

export interface FaultMark {
  readonly kind: string;
  /** Milliseconds since the run started: when it was injected and when it was cleared. */
  readonly at: number;
  readonly until: number;
  /** From the fault's end to the first cache hit on a fresh entry; undefined: none in time. */
  readonly recoverMs: number | undefined;
  /** What went wrong injecting or clearing it. */
  readonly problem?: string;
}

export interface CheckerTotals {
  readonly requests: number;
  readonly hits: number;
  readonly upstreamErrors: number;
  readonly cacheErrors: number;
  readonly wrong: number;
  readonly crossUser: number;
  readonly stale: number;
  /** A few of the problems above, described, for the report. */
  readonly examples: readonly string[];
}

export interface SoakBounds {
  readonly l1Bytes: number;
  /**
   * RSS may reach this share of the memory limit the operator injects for the L1 budget
   * (`sidecarMemoryLimitBytes`, ADR 0024): the rest is the margin before the kernel would kill the pod.
   */
  readonly rssLimitShare: number;
  /** The fitted RSS slope a run may show (MiB per hour)… */
  readonly rssSlopeMiBPerHour: number;
  /** …unless the growth it projects over the run is within this (a short run cannot resolve less). */
  readonly rssNoiseMiB: number;
  /**
   * Descriptors and sockets: the growth over the run projected by a line through each window's maximum,
   * and the last window's maximum over the first's, at most.
   */
  readonly fdMargin: number;
  readonly loopP99Ms: number;
  /** Warm-up: this share of the run, or until L1 first holds `l1FullShare` of its budget if later. */
  readonly warmUpShare: number;
  readonly l1FullShare: number;
  /** First and last windows of the measured part, as a share of it. */
  readonly windowShare: number;
}

export const DEFAULT_BOUNDS: Omit<SoakBounds, "l1Bytes"> = {
  rssLimitShare: 0.9,
  rssSlopeMiBPerHour: 16,
  rssNoiseMiB: 8,
  fdMargin: 4,
  loopP99Ms: 10,
  warmUpShare: 0.2,
  l1FullShare: 0.9,
  windowShare: 0.1,
};

/** The RSS a run may reach: its share of the memory limit injected for the L1 budget. */
export function rssBoundBytes(bounds: Pick<SoakBounds, "l1Bytes" | "rssLimitShare">): number {
  return bounds.rssLimitShare * sidecarMemoryLimitBytes(bounds.l1Bytes);
}

export interface Line {
  readonly slope: number;
  readonly intercept: number;
}

/** Least-squares line through the points; a flat line through the one point or none. */
export function fitLine(xs: readonly number[], ys: readonly number[]): Line {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return { slope: 0, intercept: 0 };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] as number;
    sy += ys[i] as number;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    sxy += dx * ((ys[i] as number) - my);
    sxx += dx * dx;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

export interface SoakFigures {
  readonly warmUpEndMs: number;
  readonly l1FullAtMs: number | undefined;
  readonly measuredSamples: number;
  readonly rssMaxMiB: number;
  readonly rssBoundMiB: number;
  readonly rssSlopeMiBPerHour: number;
  /** The fitted slope times the run's length. */
  readonly rssProjectedMiB: number;
  readonly rssProjectedBoundMiB: number;
  readonly rssAnonMaxMiB: number;
  readonly heapMaxMiB: number;
  readonly fdsFirstMax: number;
  readonly fdsLastMax: number;
  readonly fdsProjected: number;
  readonly socketsFirstMax: number;
  readonly socketsLastMax: number;
  readonly loopP99MaxMs: number;
  readonly loopP99MedianMs: number;
  /** Sample windows after the warm-up whose p99 was over the bound. */
  readonly loopWindowsOver: number;
}

export interface SoakVerdict {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly figures: SoakFigures;
}

const max = (values: readonly number[]) => values.reduce((a, b) => Math.max(a, b), 0);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
}

/**
 * Growth of a count (descriptors, sockets): the measured part cut into windows of `share` of it, each
 * window's maximum, a line fitted to those maxima projected over the run, and the last window's
 * maximum over the first's. Maxima, because a fault closes connections for a moment (a dip that, at
 * the edge of the measured part, would tilt a line through every sample) while a leak raises the
 * level every window keeps coming back to.
 */
function growth(
  measured: readonly SoakSample[],
  pick: (s: SoakSample) => number,
  runMs: number,
  share: number,
) {
  const count = Math.max(1, Math.round(1 / share));
  const size = Math.max(1, Math.ceil(measured.length / count));
  const windows: SoakSample[][] = [];
  for (let i = 0; i < measured.length; i += size) windows.push(measured.slice(i, i + size));
  const maxima = windows.map((w) => max(w.map(pick)));
  const middles = windows.map((w) => ((w[0]?.at ?? 0) + (w[w.length - 1]?.at ?? 0)) / 2);
  const line = fitLine(middles, maxima);
  return {
    firstMax: maxima[0] ?? 0,
    lastMax: maxima[maxima.length - 1] ?? 0,
    projected: line.slope * runMs,
  };
}

export function judgeSoak(input: {
  readonly samples: readonly SoakSample[];
  readonly runMs: number;
  readonly faults: readonly FaultMark[];
  readonly checker: CheckerTotals;
  readonly bounds: SoakBounds;
}): SoakVerdict {
  const { samples, runMs, faults, checker, bounds } = input;
  const problems: string[] = [];
  const l1FullAt = samples.find((s) => s.l1Bytes >= bounds.l1Bytes * bounds.l1FullShare)?.at;
  if (l1FullAt === undefined)
    problems.push(
      `L1 never held ${Math.round(bounds.l1FullShare * 100)}% of its budget: the run did not make it evict`,
    );
  const warmUpEndMs = Math.max(runMs * bounds.warmUpShare, l1FullAt ?? 0);
  const measured = samples.filter((s) => s.at >= warmUpEndMs);
  if (measured.length < 5)
    problems.push(`only ${measured.length} samples after the warm-up: too few to fit a line`);

  const rssMaxMiB = max(samples.map((s) => s.rssBytes)) / MiB;
  const rssBoundMiB = rssBoundBytes(bounds) / MiB;
  if (rssMaxMiB > rssBoundMiB)
    problems.push(
      `RSS reached ${rssMaxMiB.toFixed(1)} MiB: over ${bounds.rssLimitShare * 100}% of the injected memory limit, ${rssBoundMiB.toFixed(1)} MiB`,
    );
  const rssLine = fitLine(
    measured.map((s) => s.at),
    measured.map((s) => s.rssBytes / MiB),
  );
  const rssSlopeMiBPerHour = rssLine.slope * HOUR_MS;
  const rssProjectedMiB = rssLine.slope * runMs;
  const rssProjectedBoundMiB = Math.max((bounds.rssSlopeMiBPerHour * runMs) / HOUR_MS, bounds.rssNoiseMiB);
  if (rssProjectedMiB > rssProjectedBoundMiB)
    problems.push(
      `RSS grows ${rssSlopeMiBPerHour.toFixed(1)} MiB/h after the warm-up: ${rssProjectedMiB.toFixed(1)} MiB over the run, more than ${rssProjectedBoundMiB.toFixed(1)} MiB`,
    );

  const fds = growth(measured, (s) => s.fds, runMs, bounds.windowShare);
  const sockets = growth(measured, (s) => s.sockets, runMs, bounds.windowShare);
  for (const [name, g] of [
    ["descriptors", fds],
    ["sockets", sockets],
  ] as const) {
    if (g.projected > bounds.fdMargin)
      problems.push(
        `open ${name} grow: the line fitted to each window's maximum adds ${g.projected.toFixed(1)} over the run (at most ${bounds.fdMargin})`,
      );
    if (g.lastMax > g.firstMax + bounds.fdMargin)
      problems.push(
        `open ${name} grow: ${g.lastMax} at most in the last window, ${g.firstMax} in the first (margin ${bounds.fdMargin})`,
      );
  }

  const loops = measured.map((s) => s.loopP99Ms);
  const loopP99MaxMs = max(loops);
  if (loopP99MaxMs > bounds.loopP99Ms)
    problems.push(
      `event-loop delay p99 reached ${loopP99MaxMs.toFixed(1)} ms in a sample window (at most ${bounds.loopP99Ms} ms)`,
    );

  for (const [count, what] of [
    [checker.cacheErrors, "errors the cache caused"],
    [checker.wrong, "wrong answers"],
    [checker.crossUser, "cross-user answers"],
    [checker.stale, "stale reads after a write"],
  ] as const)
    if (count > 0) problems.push(`${count} ${what}`);
  if (checker.requests === 0) problems.push("the load sent no request");
  for (const fault of faults) {
    if (fault.problem)
      problems.push(`fault ${fault.kind} at ${Math.round(fault.at / 1000)} s: ${fault.problem}`);
    else if (fault.recoverMs === undefined)
      problems.push(`fault ${fault.kind} at ${Math.round(fault.at / 1000)} s: no fresh cache hit after it`);
  }

  return {
    ok: problems.length === 0,
    problems,
    figures: {
      warmUpEndMs,
      l1FullAtMs: l1FullAt,
      measuredSamples: measured.length,
      rssMaxMiB,
      rssBoundMiB,
      rssSlopeMiBPerHour,
      rssProjectedMiB,
      rssProjectedBoundMiB,
      rssAnonMaxMiB: max(samples.map((s) => s.rssAnonBytes)) / MiB,
      heapMaxMiB: max(samples.map((s) => s.heapUsedBytes)) / MiB,
      fdsFirstMax: fds.firstMax,
      fdsLastMax: fds.lastMax,
      fdsProjected: fds.projected,
      socketsFirstMax: sockets.firstMax,
      socketsLastMax: sockets.lastMax,
      loopP99MaxMs,
      loopP99MedianMs: median(loops),
      loopWindowsOver: loops.filter((ms) => ms > bounds.loopP99Ms).length,
    },
  };
}
