/** Pure formatting for the sidecar benchmark: percentiles, the table, the targets, the results.md section. */

export interface LoadSample {
  /** Requests per second over the run. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Non-2xx responses plus connection errors and timeouts. */
  readonly failures: number;
}

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  /** The Cache-Status of a probe request (what the sidecar says it did). */
  readonly cacheStatus: string;
  /** One connection, back to back: the service latency. */
  readonly latency: LoadSample;
  /** Many connections: the throughput (and latency under load). */
  readonly throughput: LoadSample;
  /** Per round: req/s at many connections and p50 at one (paired comparisons with `--baseline`). */
  readonly rounds?: readonly { readonly rps: number; readonly p50Ms: number }[];
}

export interface BenchRun {
  readonly date: string;
  readonly machine: string;
  readonly command: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly rounds: number;
  readonly bodyBytes: number;
  readonly results: readonly ScenarioResult[];
}

export const SECTION_HEADING = "## Sidecar micro-benchmark";

export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] as number;
}

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(3) : "n/a");
const rate = (value: number): string => Math.round(value).toLocaleString("en-US");

export function formatTable(run: BenchRun): string {
  const header = [
    `| scenario | req/s (${run.connections} conns) | p50 ms (1 conn) | p99 ms (1 conn) | p50 ms (${run.connections} conns) | p99 ms (${run.connections} conns) | failures | Cache-Status |`,
    "|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  const rows = run.results.map(
    (r) =>
      `| ${r.name} | ${rate(r.throughput.rps)} | ${ms(r.latency.p50Ms)} | ${ms(r.latency.p99Ms)} | ` +
      `${ms(r.throughput.p50Ms)} | ${ms(r.throughput.p99Ms)} | ${r.latency.failures + r.throughput.failures} | \`${r.cacheStatus}\` |`,
  );
  return [...header, ...rows].join("\n");
}

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

export function checkTargets(results: readonly ScenarioResult[]): TargetCheck[] {
  const find = (name: string) => results.find((r) => r.name === name);
  const floor = find("floor");
  const upstream = find("upstream direct");
  const l1 = find("sidecar L1 hit");
  const miss = find("sidecar miss");
  const checks: TargetCheck[] = [];
  if (floor && l1) {
    const ratio = l1.latency.p50Ms / floor.latency.p50Ms;
    checks.push({
      target: "L1 hit p50 ≤ 1.5 × floor p50 (1 conn)",
      measured: `${ratio.toFixed(2)}× (${ms(l1.latency.p50Ms)} vs ${ms(floor.latency.p50Ms)} ms)`,
      met: ratio <= 1.5,
    });
    const share = l1.throughput.rps / floor.throughput.rps;
    checks.push({
      target: "L1 hit req/s ≥ 60% of floor req/s",
      measured: `${(share * 100).toFixed(0)}% (${rate(l1.throughput.rps)} vs ${rate(floor.throughput.rps)})`,
      met: share >= 0.6,
    });
  }
  if (upstream && miss) {
    const added = miss.latency.p50Ms - upstream.latency.p50Ms;
    checks.push({
      target: "miss adds < 0.5 ms p50 over the direct upstream (1 conn)",
      measured: `+${added.toFixed(3)} ms (${ms(miss.latency.p50Ms)} vs ${ms(upstream.latency.p50Ms)} ms)`,
      met: added < 0.5,
    });
  }
  return checks;
}

export function formatTargets(checks: readonly TargetCheck[]): string {
  return [
    "| target | measured | met |",
    "|---|---|---|",
    ...checks.map((c) => `| ${c.target} | ${c.measured} | ${c.met ? "yes" : "**no**"} |`),
  ].join("\n");
}

/**
 * This build against the baseline build, scenario by scenario (`--baseline`). Each round measures a
 * scenario and its baseline one right after the other, so the ratio of a round is the pair's: the
 * medians of those ratios are what a noisy machine distorts least.
 */
export interface BaselineComparison {
  readonly scenario: string;
  /** Median over rounds of req/s at many connections, this build / baseline (higher is better). */
  readonly rpsRatio: number;
  /** Median over rounds of p50 at one connection, this build / baseline (lower is better). */
  readonly p50Ratio: number;
  /** p99 at one connection over all rounds, this build / baseline (lower is better). */
  readonly p99Ratio: number;
  readonly rounds: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
}

function pairedRatios(
  current: ScenarioResult,
  baseline: ScenarioResult,
  pick: (round: { readonly rps: number; readonly p50Ms: number }) => number,
): number[] {
  const ours = current.rounds ?? [];
  const theirs = baseline.rounds ?? [];
  return ours.flatMap((round, index) => {
    const other = theirs[index];
    return other === undefined ? [] : [pick(round) / pick(other)];
  });
}

export function compareWithBaseline(results: readonly ScenarioResult[]): BaselineComparison[] {
  return results.flatMap((result) => {
    if (!result.name.startsWith("sidecar ")) return [];
    const baseline = results.find((r) => r.name === result.name.replace(/^sidecar /, "baseline "));
    if (baseline === undefined) return [];
    const rps = pairedRatios(result, baseline, (round) => round.rps);
    const p50 = pairedRatios(result, baseline, (round) => round.p50Ms);
    return [
      {
        scenario: result.name.replace(/^sidecar /, ""),
        rpsRatio: rps.length > 0 ? median(rps) : result.throughput.rps / baseline.throughput.rps,
        p50Ratio: p50.length > 0 ? median(p50) : result.latency.p50Ms / baseline.latency.p50Ms,
        p99Ratio: result.latency.p99Ms / baseline.latency.p99Ms,
        rounds: rps.length,
      },
    ];
  });
}

export function formatComparison(comparisons: readonly BaselineComparison[]): string {
  const ratio = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a");
  return [
    "| this build vs baseline | req/s, median of per-round ratios (higher is better) | p50 1 conn, median of per-round ratios (lower is better) | p99 1 conn, all rounds (lower is better) | rounds |",
    "|---|---:|---:|---:|---:|",
    ...comparisons.map(
      (c) =>
        `| ${c.scenario} | ${ratio(c.rpsRatio)} | ${ratio(c.p50Ratio)} | ${ratio(c.p99Ratio)} | ${c.rounds} |`,
    ),
  ].join("\n");
}

export function formatSection(run: BenchRun): string {
  const comparison = compareWithBaseline(run.results);
  return [
    SECTION_HEADING,
    "",
    `Measured ${run.date} on ${run.machine}.`,
    "",
    `Command: \`${run.command}\` (autocannon in the benchmark process; every server in its own process on`,
    `127.0.0.1; body ${run.bodyBytes} bytes of JSON). Each scenario: a 1 s warm-up, then ${run.rounds} interleaved rounds of`,
    `${run.durationSeconds} s at 1 connection and ${run.durationSeconds} s at ${run.connections}; req/s is the median round, percentiles pool every response.`,
    'Latency columns "1 conn" are one connection sending back to back (service time, measured per response',
    `with sub-millisecond precision); "${run.connections} conns" runs measure throughput and latency under load.`,
    "",
    formatTable(run),
    "",
    formatTargets(checkTargets(run.results)),
    "",
    ...(comparison.length === 0 ? [] : [formatComparison(comparison), ""]),
    "Scenarios:",
    "",
    ...run.results.map((r) => `- **${r.name}**: ${r.description}`),
    "",
    "This is a micro-benchmark of the data path on one shared machine, not a capacity figure: the load",
    "generator competes with the servers for the same cores. Compare rows within one run, not across runs.",
    "",
  ].join("\n");
}

/** Replaces the section (from its heading to the next `## ` heading) or appends it. */
export function replaceSection(document: string, section: string): string {
  const body = section.endsWith("\n") ? section : `${section}\n`;
  const start = document.indexOf(`${SECTION_HEADING}\n`);
  if (start < 0) {
    if (document.trim() === "") return `# Load test results\n\n${body}`;
    return `${document.replace(/\n*$/, "\n\n")}${body}`;
  }
  const next = document.indexOf("\n## ", start + SECTION_HEADING.length);
  const after = next < 0 ? "" : document.slice(next + 1);
  return `${document.slice(0, start)}${body}${after === "" ? "" : `\n${after}`}`;
}
