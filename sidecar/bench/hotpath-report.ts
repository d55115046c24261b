/**
 * Pure formatting for `make bench-hotpath`: per-round req/s of the bare floor and the sidecar's L1
 * hit side by side, their ratios, their CPU per request at one fixed rate, and the profile's top
 * self-time functions, as the markdown written to load-tests/profiles/hotpath.md.
 */
import type { SelfTime } from "./hotpath-profile.js";

/** One round: every scenario's req/s, measured back to back. */
export interface HotpathRound {
  readonly rps: Readonly<Record<string, number>>;
}

/** One round at a fixed request rate: every scenario's CPU µs per request (from /proc) and req/s held. */
export interface CpuRound {
  readonly usPerRequest: Readonly<Record<string, number>>;
  readonly rps: Readonly<Record<string, number>>;
}

export interface HotpathRun {
  readonly date: string;
  readonly machine: string;
  readonly command: string;
  /** The scenarios in table order; the first is the floor the others are divided by. */
  readonly scenarios: readonly string[];
  readonly rounds: readonly HotpathRound[];
  /** The fixed rate of `cpuRounds`, requests per second over all connections. */
  readonly cpuRate: number;
  readonly cpuRounds: readonly CpuRound[];
  readonly cacheStatus: Readonly<Record<string, string>>;
  readonly failures: Readonly<Record<string, number>>;
  readonly profiles: readonly ProfileSummary[];
}

export interface ProfileSummary {
  readonly name: string;
  readonly svg: string;
  readonly seconds: number;
  readonly rps: number;
  /** Busy CPU (every sample but idle) per request served while profiled, in µs. */
  readonly busyUsPerRequest: number;
  readonly top: readonly SelfTime[];
  readonly areas: readonly SelfTime[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Per scenario: the median req/s, and the median of its per-round ratios to the floor's. */
export function summarize(run: Pick<HotpathRun, "scenarios" | "rounds">): {
  readonly name: string;
  readonly rps: number;
  readonly ratio: number;
  readonly ratios: readonly number[];
}[] {
  const floor = run.scenarios[0] ?? "";
  return run.scenarios.map((name) => {
    const ratios = run.rounds.map(
      (round) => (round.rps[name] ?? Number.NaN) / (round.rps[floor] ?? Number.NaN),
    );
    return {
      name,
      rps: median(run.rounds.map((round) => round.rps[name] ?? Number.NaN)),
      ratio: median(ratios),
      ratios,
    };
  });
}

/**
 * Per scenario at the fixed rate: the median CPU µs per request, its ratio floor ÷ scenario (the
 * throughput ratio if each had a core of its own: what the server itself costs, whoever drives the
 * load), and its excess over the floor (the cost of what the scenario does beyond answering).
 */
export function summarizeCpu(run: Pick<HotpathRun, "scenarios" | "cpuRounds">): {
  readonly name: string;
  readonly usPerRequest: number;
  readonly perRound: readonly number[];
  readonly rps: number;
  readonly serverRatio: number;
  readonly overFloorUs: number;
}[] {
  const floorName = run.scenarios[0] ?? "";
  const us = (name: string) => run.cpuRounds.map((round) => round.usPerRequest[name] ?? Number.NaN);
  const floor = median(us(floorName));
  return run.scenarios.map((name) => {
    const usPerRequest = median(us(name));
    return {
      name,
      usPerRequest,
      perRound: us(name),
      rps: median(run.cpuRounds.map((round) => round.rps[name] ?? Number.NaN)),
      serverRatio: floor / usPerRequest,
      overFloorUs: usPerRequest - floor,
    };
  });
}

const rate = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";
const times = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a");
const percent = (value: number): string => `${(100 * value).toFixed(1)}%`;

export function formatRatios(run: HotpathRun): string {
  const rows = summarize(run).map(
    (s) =>
      `| ${s.name} | ${rate(s.rps)} | ${times(s.ratio)} | ${s.ratios.map(times).join(", ")} | ${run.failures[s.name] ?? 0} | \`${run.cacheStatus[s.name] ?? ""}\` |`,
  );
  return [
    `| scenario | req/s (median round) | vs ${run.scenarios[0]} (median of per-round ratios) | per round | failures | Cache-Status |`,
    "|---|---:|---:|---|---:|---|",
    ...rows,
  ].join("\n");
}

const micros = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(1)} µs` : "n/a");

export function formatCpu(run: HotpathRun): string {
  const rows = summarizeCpu(run).map(
    (s) =>
      `| ${s.name} | ${micros(s.usPerRequest)} | ${s.perRound.map((v) => v.toFixed(1)).join(", ")} | ${rate(s.rps)} | ${times(s.serverRatio)} | ${micros(s.overFloorUs)} |`,
  );
  return [
    `| scenario | CPU per request at ${rate(run.cpuRate)} req/s (median round) | per round, µs | req/s held | ${run.scenarios[0]} ÷ this | over ${run.scenarios[0]} |`,
    "|---|---:|---|---:|---:|---:|",
    ...rows,
  ].join("\n");
}

export function formatSelfTimes(title: string, times: readonly SelfTime[]): string {
  return [
    `| ${title} | samples | share of busy samples |`,
    "|---|---:|---:|",
    ...times.map((t) => `| \`${t.frame.replaceAll("|", "\\|")}\` | ${t.samples} | ${percent(t.share)} |`),
  ].join("\n");
}

export function formatHotpath(run: HotpathRun): string {
  const profiles = run.profiles.flatMap((p) => [
    `### ${p.name}: ${rate(p.rps)} req/s while profiled for ${p.seconds} s — [flame graph](${p.svg})`,
    "",
    `Busy CPU per request: ${p.busyUsPerRequest.toFixed(1)} µs (samples not idle × interval ÷ requests served).`,
    "",
    formatSelfTimes("by where the running function lives", p.areas.slice(0, 12)),
    "",
    formatSelfTimes("function (self time)", p.top),
    "",
  ]);
  return [
    "# L1-hit hot path (make bench-hotpath)",
    "",
    "Generated by `make bench-hotpath`; a benchmark, not a test (ADR 0027).",
    "",
    `Measured ${run.date} on ${run.machine}.`,
    "",
    `Command: \`${run.command}\`. autocannon in the benchmark process, every server in its own process on 127.0.0.1; ` +
      "scenarios measured back to back in each round (their order alternating), so a burst of load from other " +
      "processes lands on both; the profiled runs come after, on other processes started with `--cpu-prof`, " +
      "and do not count in the ratios.",
    "",
    formatRatios(run),
    "",
    "### CPU per request at one fixed rate",
    "",
    "Each server's own CPU time (user + system, every thread, from `/proc/<pid>/stat`) over the requests it " +
      "answered, under the same offered load, in alternating order per round. The load is autocannon's " +
      "`overallRate`: each connection sends its share of a second's requests as fast as they are answered, " +
      "then waits for the next second. The req/s ratio above depends on how much of the two cores the load " +
      "tool takes; this does not. It counts every thread (V8's collector helpers too), so it is higher than " +
      "the main-thread profiles' busy CPU below. **Over the floor** is what the sidecar's work costs per L1 " +
      "hit, the figure ADR 0027 tracks; compare it within one run.",
    "",
    run.cpuRounds.length > 0 ? formatCpu(run) : "(not measured: --rounds 0)",
    "",
    ...profiles,
  ].join("\n");
}
