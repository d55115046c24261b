import { SIDECAR_MEMORY_LIMIT } from "@apicache/crds";
/**
 * The "Soak (make soak)" section of load-tests/results.md and the table the run prints, pure: soak.ts
 * hands in what it measured and the verdict, and writes the text.
 */
import { HOT_ITEMS, WRITE_EVERY } from "./soak-load.js";
import type { CheckerTotals, FaultMark, SoakBounds, SoakVerdict } from "./soak-verdict.js";

export const SOAK_SECTION_HEADING = "## Soak (make soak)";

export interface SoakRun {
  readonly date: string;
  readonly machine: string;
  readonly command: string;
  readonly minutes: number;
  readonly samples: number;
  readonly sampleEverySeconds: number;
  readonly rate: number;
  readonly achievedRate: number;
  readonly clients: number;
  readonly items: number;
  readonly bodyBytes: number;
  readonly faultEverySeconds: number;
  readonly faults: readonly FaultMark[];
  readonly checker: CheckerTotals;
  readonly bounds: SoakBounds;
  readonly verdict: SoakVerdict;
  /** Where the plot is, relative to results.md. */
  readonly plot: string;
  /** The sidecar's warnings and errors over the run, counted by message. */
  readonly sidecarLog: string;
}

const MiB = 1024 * 1024;
const f1 = (n: number) => n.toFixed(1);
const mark = (ok: boolean) => (ok ? "ok" : "**FAIL**");

function figuresTable(run: SoakRun): string[] {
  const { figures: g } = run.verdict;
  const b = run.bounds;
  const fdOk = (first: number, last: number) => last <= first + b.fdMargin;
  return [
    "| figure | measured | bound | |",
    "|---|---|---|---|",
    `| RSS, max over the run | ${f1(g.rssMaxMiB)} MiB | ${b.rssLimitShare * 100}% of the injected limit (${SIDECAR_MEMORY_LIMIT.l1Factor} × L1 ${b.l1Bytes / MiB} MiB + ${SIDECAR_MEMORY_LIMIT.baseBytes / MiB} MiB) = ${f1(g.rssBoundMiB)} MiB | ${mark(g.rssMaxMiB <= g.rssBoundMiB)} |`,
    `| RSS, fitted slope after the warm-up | ${f1(g.rssSlopeMiBPerHour)} MiB/h, ${f1(g.rssProjectedMiB)} MiB over the run | ${f1(g.rssProjectedBoundMiB)} MiB over the run (${b.rssSlopeMiBPerHour} MiB/h, at least ${b.rssNoiseMiB} MiB) | ${mark(g.rssProjectedMiB <= g.rssProjectedBoundMiB)} |`,
    `| RSS anonymous (less node's file-backed pages), max | ${f1(g.rssAnonMaxMiB)} MiB | (not judged) | |`,
    `| heap used, max | ${f1(g.heapMaxMiB)} MiB | (not judged) | |`,
    `| open descriptors, first → last window max | ${g.fdsFirstMax} → ${g.fdsLastMax}; fitted ${f1(g.fdsProjected)} over the run | +${b.fdMargin} | ${mark(fdOk(g.fdsFirstMax, g.fdsLastMax) && g.fdsProjected <= b.fdMargin)} |`,
    `| open sockets, first → last window max | ${g.socketsFirstMax} → ${g.socketsLastMax} | +${b.fdMargin} | ${mark(fdOk(g.socketsFirstMax, g.socketsLastMax))} |`,
    `| event-loop delay p99, worst ${run.sampleEverySeconds} s window (median; windows over the bound) | ${f1(g.loopP99MaxMs)} ms (${f1(g.loopP99MedianMs)} ms; ${g.loopWindowsOver} of ${g.measuredSamples}) | ${b.loopP99Ms} ms | ${mark(g.loopP99MaxMs <= b.loopP99Ms)} |`,
  ];
}

function checkerLine(c: CheckerTotals): string {
  return (
    `The load's checker: ${c.requests} requests, ${c.hits} cache hits, ${c.upstreamErrors} errors the upstream caused ` +
    `(while it was down), **${c.cacheErrors} errors the cache caused, ${c.wrong} wrong, ${c.crossUser} cross-user, ${c.stale} stale** (each must be 0).`
  );
}

function faultsTable(faults: readonly FaultMark[]): string[] {
  return [
    "| # | fault | at | held | recovered (first fresh hit) |",
    "|---|---|---|---|---|",
    ...faults.map(
      (m, i) =>
        `| ${i + 1} | ${m.kind} | ${f1(m.at / 60_000)} min | ${((m.until - m.at) / 1000).toFixed(1)} s | ${m.problem ? `**${m.problem}**` : m.recoverMs === undefined ? "**none**" : `${m.recoverMs} ms`} |`,
    ),
  ];
}

export function formatSoakSection(run: SoakRun): string {
  const g = run.verdict.figures;
  const l1Full = g.l1FullAtMs === undefined ? "never" : `${f1(g.l1FullAtMs / 60_000)} min`;
  return [
    `Measured ${run.date} on ${run.machine}.`,
    "",
    `Command: \`${run.command}\` (sidecar/bench/soak.ts, ADR 0023). One sidecar process (the tsc build, on plain node) on`,
    "one `redis-server`, the fault suite's upstream and checked load in the benchmark process, all on 127.0.0.1.",
    `${run.clients} clients, one user each, paced to ${run.rate} requests/s in all (${f1(run.achievedRate)} achieved): half public, half PerUser`,
    `reads, one in ${WRITE_EVERY} a PUT that invalidates its tag and key; half the requests on ${HOT_ITEMS} hot items, half sweeping ${run.items} per route`,
    `(bodies padded to ${run.bodyBytes} bytes), so L1 (${run.bounds.l1Bytes / MiB} MiB) fills and evicts (first full at ${l1Full}). A fault every`,
    `${run.faultEverySeconds} s, in turn: Redis killed and restarted, Redis paused (CLIENT PAUSE 3 s), upstream restarted, policy reloaded.`,
    `The sidecar sampled every ${run.sampleEverySeconds} s (${run.samples} samples): RSS, descriptors and sockets from \`/proc/<pid>/\`,`,
    "heap used and the event-loop delay p99 (beyond prom-client's 10 ms sampling interval) from its own `/metrics`",
    "(the programmatic sidecar of sidecar/bench/soak-sidecar-child.mjs: the CLI does not expose process metrics).",
    `Lines fitted after the warm-up (the first ${Math.round(run.bounds.warmUpShare * 100)}% of the run, or until L1 is full if later: ${f1(g.warmUpEndMs / 60_000)} min).`,
    "",
    `**Verdict: ${run.verdict.ok ? "pass" : "FAIL"}.**${run.verdict.problems.map((p) => `\n- ${p}`).join("")}`,
    "",
    ...figuresTable(run),
    "",
    checkerLine(run.checker),
    ...run.checker.examples.slice(0, 5).map((e) => `- ${e}`),
    "",
    ...faultsTable(run.faults),
    "",
    `The sidecar's warnings and errors: ${run.sidecarLog}.`,
    "",
    `![RSS, heap, L1, descriptors, sockets and event-loop delay over the soak, faults marked](${run.plot})`,
  ].join("\n");
}
