/**
 * `make soak` (issue #15): a benchmark, not a test, and not in CI. One sidecar process on a real
 * redis-server under a steady mixed load for SOAK_MINUTES (default 30), a fault every few minutes;
 * samples the process every few seconds, fits lines after a warm-up and fails (exit 1) if memory or
 * descriptors grow, the event loop lags or the checker saw a wrong, stale, cross-user or cache-caused
 * answer (ADR 0023). Prints the table, writes load-tests/soak.svg and the "Soak (make soak)" section
 * of load-tests/results.md (with --no-write: the plot goes to the temp directory, results.md untouched).
 *
 *   npx tsx --conditions=source sidecar/bench/soak.ts [--help]
 */
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { createProgress } from "@apicache/load-tests/harness/progress";
import { writeSection } from "@apicache/load-tests/harness/results-file";
import { waitFor } from "@apicache/testkit/wait";
import { type FaultLoad, startFaultLoad, type WindowSummary } from "../test/faults/fault-load.js";
import { logNotes } from "../test/faults/fault-run.js";
import { type FaultUpstream, startFaultUpstream } from "../test/faults/fault-upstream.js";
import { type FaultRedis, startFaultRedis } from "../test/faults/redis-fault-servers.js";
import { type ConfigMapVolume, configMapVolume } from "../test/support/configmap-volume.js";
import { buildSidecar, REPO, RESULTS, spawnChild, stopChildren } from "./bench-children.js";
import { waitForL1Channel } from "./multi-replicas.js";
import { FAULT_ROOM_SECONDS, parseSoakConfig, SOAK_USAGE, type SoakConfig } from "./soak-config.js";
import { runSoakFault, type SoakWorld, soakPolicy } from "./soak-faults.js";
import { paceMs, soakItemOf, WRITE_EVERY } from "./soak-load.js";
import { renderSoakSvg } from "./soak-plot.js";
import { sampleSidecar, scrapeMetrics } from "./soak-sampler.js";
import { formatSoakSection, SOAK_SECTION_HEADING } from "./soak-section.js";
import {
  type CheckerTotals,
  DEFAULT_BOUNDS,
  type FaultMark,
  judgeSoak,
  type SoakBounds,
  type SoakSample,
} from "./soak-verdict.js";

const parsed = parseSoakConfig(process.argv.slice(2));
if (!parsed.ok) {
  if (parsed.help) {
    console.log(SOAK_USAGE);
    process.exit(0);
  }
  console.error(`soak: ${parsed.problems.join("\n  ")}\n\n${SOAK_USAGE}`);
  process.exit(2);
}
const config = parsed.config;
const progress = createProgress();
const PLOT = join(REPO, "load-tests", "soak.svg");
const SIDECAR_LOG = join(tmpdir(), "apicache-soak-sidecar.log");

interface SoakSidecar {
  readonly url: string;
  readonly adminUrl: string;
  readonly pid: number;
}

interface Stack {
  redis?: FaultRedis;
  upstream?: FaultUpstream;
  volume?: ConfigMapVolume;
  load?: FaultLoad;
}
const stack: Stack = {};

async function cleanup(): Promise<void> {
  await stack.load?.stop();
  await stopChildren();
  await stack.redis?.stop();
  await stack.upstream?.close();
  await stack.volume?.remove();
}

/** Adds a judged window to the run's totals (a few problems kept, described). */
function addWindow(totals: CheckerTotals, s: WindowSummary): CheckerTotals {
  return {
    requests: totals.requests + s.requests,
    hits: totals.hits + s.hits,
    upstreamErrors: totals.upstreamErrors + s.upstreamErrors,
    cacheErrors: totals.cacheErrors + s.cacheErrors.length,
    wrong: totals.wrong + s.wrong.length,
    crossUser: totals.crossUser + s.crossUser.length,
    stale: totals.stale + s.stale.length,
    examples: [...totals.examples, ...s.cacheErrors, ...s.wrong, ...s.crossUser, ...s.stale].slice(0, 10),
  };
}

/** Samples every few seconds until `until`; a failed sample is a problem (the sidecar must answer). */
async function sampleLoop(pid: number, adminUrl: string, runStart: number, until: number) {
  const samples: SoakSample[] = [];
  const failures: string[] = [];
  const every = config.sampleEverySeconds * 1000;
  for (let next = runStart; next <= until; next += every) {
    if (next > Date.now()) await delay(next - Date.now());
    try {
      const sample = await sampleSidecar(pid, adminUrl, runStart);
      samples.push(sample);
      const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
      progress(
        `soak ${(sample.at / 60_000).toFixed(1)}/${config.minutes} min: RSS ${mib(sample.rssBytes)} MiB, heap ${mib(sample.heapUsedBytes)} MiB, L1 ${mib(sample.l1Bytes)} MiB, ${sample.fds} fds (${sample.sockets} sockets), loop p99 ${sample.loopP99Ms.toFixed(1)} ms`,
      );
    } catch (error) {
      failures.push(
        `sample at ${((Date.now() - runStart) / 1000).toFixed(0)} s failed: ${(error as Error).message}`,
      );
    }
  }
  return { samples, failures };
}

/** Steady stretches and faults in turn until the run's end; every request judged in exactly one window. */
async function faultLoop(world: SoakWorld, load: FaultLoad, runStart: number, runEnd: number) {
  let totals: CheckerTotals = {
    requests: 0,
    hits: 0,
    upstreamErrors: 0,
    cacheErrors: 0,
    wrong: 0,
    crossUser: 0,
    stale: 0,
    examples: [],
  };
  const marks: FaultMark[] = [];
  let from = runStart;
  // A window is judged once every request sent in it has been answered (or has failed: the load's
  // client gives up after 15 s), so none falls between two windows.
  const judge = async (to: number) => {
    await waitFor(
      "the window's requests to be answered",
      () => load.sent.every((s) => s.start >= to || s.end > 0),
      {
        timeoutMs: 20_000,
        intervalMs: 20,
      },
    );
    totals = addWindow(totals, load.summarise(from, to));
    load.forget(to);
    from = to;
  };
  const every = config.faultEverySeconds * 1000;
  // A fault starts only with room to run before the end (its hold, its recovery bound, a margin).
  for (
    let n = 0, at = runStart + every;
    at + FAULT_ROOM_SECONDS * 1000 <= runEnd;
    n++, at = runStart + (n + 1) * every
  ) {
    if (at > Date.now()) await delay(at - Date.now());
    await judge(Date.now());
    const { result, end, injectedAt, problem } = await runSoakFault(n, world, load, from);
    progress(
      `fault ${result.id}: held ${result.faultMs} ms, recovered in ${result.recoverMs ?? "-"} ms`,
      true,
    );
    marks.push({
      kind: result.id,
      at: injectedAt - runStart,
      until: injectedAt + result.faultMs - runStart,
      recoverMs: result.recoverMs,
      ...(problem ? { problem } : {}),
    });
    await judge(end);
  }
  if (runEnd > Date.now()) await delay(runEnd - Date.now());
  // The requests still in flight at the end are judged once they are answered.
  await load.stop();
  await judge(Date.now());
  return { totals, marks };
}

/** The sidecar's warnings and errors over the run, counted by message (fault-run.ts's logNotes). */
function sidecarNotes(from: number, to: number): string {
  const lines = readFileSync(SIDECAR_LOG, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return logNotes(lines, from, to) || "none";
}

function describeMachine(loadBefore: number): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return (
    `${availableParallelism()} CPUs (nproc; ${cpu}), Node ${process.version}, ${process.platform}/${process.arch}; ` +
    `1-min load average ${loadBefore.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end`
  );
}

async function main(config: SoakConfig): Promise<number> {
  const loadBefore = loadavg()[0] ?? 0;
  const build = buildSidecar(REPO);
  const [redis, upstream, volume] = await Promise.all([
    startFaultRedis(),
    startFaultUpstream({ pad: "p".repeat(config.bodyBytes) }),
    configMapVolume(soakPolicy(config.l1MiB), "apicache-soak-"),
  ]);
  Object.assign(stack, { redis, upstream, volume });
  const logFd = openSync(SIDECAR_LOG, "w");
  const sidecar = await spawnChild<SoakSidecar>(
    "soak-sidecar-child.mjs",
    [volume.path, upstream.url, redis.url, build],
    { stdout: logFd },
  );
  closeSync(logFd);
  await waitForL1Channel([sidecar]);
  const world: SoakWorld = {
    redis,
    upstream,
    volume,
    l1MiB: config.l1MiB,
    reloadsOk: async () => (await scrapeMetrics(sidecar.adminUrl)).reloadsOk,
  };
  const runStart = Date.now();
  const runEnd = runStart + config.minutes * 60_000;
  const load = startFaultLoad(
    {
      targets: () => [sidecar.url],
      clients: config.clients,
      items: config.items,
      itemOf: (i) => soakItemOf(i, config.items),
      writeEvery: WRITE_EVERY,
      paceMs: paceMs(config.clients, config.rate),
    },
    upstream,
  );
  stack.load = load;
  progress(`soak: ${config.minutes} min, sidecar pid ${sidecar.pid}, its log in ${SIDECAR_LOG}`, true);
  const [sampled, faulted] = await Promise.all([
    sampleLoop(sidecar.pid, sidecar.adminUrl, runStart, runEnd),
    faultLoop(world, load, runStart, runEnd),
  ]);
  stack.load = undefined;
  const runMs = Date.now() - runStart;
  const bounds: SoakBounds = { ...DEFAULT_BOUNDS, l1Bytes: config.l1MiB * 1024 * 1024 };
  const judged = judgeSoak({
    samples: sampled.samples,
    runMs,
    faults: faulted.marks,
    checker: faulted.totals,
    bounds,
  });
  const verdict = {
    ...judged,
    ok: judged.ok && sampled.failures.length === 0,
    problems: [...judged.problems, ...sampled.failures],
  };
  const extra = process.argv
    .slice(2)
    .join(" ")
    .replace(/--minutes[= ]\S+/, "")
    .trim();
  const plotFile = config.write ? PLOT : join(tmpdir(), "apicache-soak.svg");
  writeFileSync(
    plotFile,
    renderSoakSvg({
      title: `make soak: ${config.minutes} min, one sidecar, L1 ${config.l1MiB} MiB, ${new Date(runStart).toISOString()}`,
      samples: sampled.samples,
      faults: faulted.marks,
      runMs,
      warmUpEndMs: verdict.figures.warmUpEndMs,
      rssBoundMiB: verdict.figures.rssBoundMiB,
      loopBoundMs: bounds.loopP99Ms,
    }),
  );
  const body = formatSoakSection({
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    machine: describeMachine(loadBefore),
    command: `make soak SOAK_MINUTES=${config.minutes}${extra === "" ? "" : ` SOAK_ARGS="${extra}"`}`,
    minutes: config.minutes,
    samples: sampled.samples.length,
    sampleEverySeconds: config.sampleEverySeconds,
    rate: config.rate,
    achievedRate: faulted.totals.requests / (runMs / 1000),
    clients: config.clients,
    items: config.items,
    bodyBytes: config.bodyBytes,
    faultEverySeconds: config.faultEverySeconds,
    faults: faulted.marks,
    checker: faulted.totals,
    bounds,
    verdict,
    plot: "soak.svg",
    sidecarLog: sidecarNotes(runStart, runStart + runMs),
  });
  console.log(`\n${SOAK_SECTION_HEADING}\n\n${body}\n\nplot: ${plotFile}`);
  if (config.write) {
    writeSection(RESULTS, SOAK_SECTION_HEADING, body);
    console.log(`wrote the "${SOAK_SECTION_HEADING.slice(3)}" section of ${RESULTS}`);
  }
  if (!verdict.ok) console.error(`\nsoak FAILED:\n  ${verdict.problems.join("\n  ")}`);
  return verdict.ok ? 0 : 1;
}

process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
let code = 1;
try {
  code = await main(config);
} catch (error) {
  console.error(`soak failed: ${(error as Error).stack ?? error}`);
} finally {
  await cleanup();
}
process.exit(code);
