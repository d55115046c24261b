import type { Scenario } from "../scenario.js";
import { certainToMiss, holds } from "./capacity-search.js";
import { capacitySampler } from "./capacity-stream.js";
import { type DbWork, dbWork, readDbStats } from "./db-stats.js";
import type { HttpClient } from "./http-client.js";
import { runOpenLoop } from "./open-loop.js";
import { coresUsed, cpuSeconds } from "./proc-cpu.js";
import { percentile, type Sample } from "./stats.js";

/**
 * One probe of the capacity search: the scenario's request stream at one open-model rate, an
 * unjudged warm-up, then a window judged against the SLO (p95 within it, no failed request). A probe
 * whose p95 is certain to miss stops issuing early; requests in flight still complete, so the next
 * probe starts on an idle path. Reads the processes' CPU from /proc and the demo API's statement
 * counters around the window.
 */
export interface ProbeOptions {
  readonly client: HttpClient;
  readonly scenario: Scenario;
  readonly rate: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  readonly sloMs: number;
  readonly maxFailed: number;
  /** The demo API, for its statement counters (db-stats.ts). */
  readonly apiUrl: string;
  /** Processes whose CPU to report, by name (e.g. sidecar, api). */
  readonly pids: Readonly<Record<string, number | undefined>>;
  readonly progress: (line: string, final?: boolean) => void;
  readonly label: string;
  /** Stop a window certain to miss (default); the equal-load runs measure their whole window. */
  readonly stopEarly?: boolean;
}

export interface ProbeResult {
  readonly rate: number;
  readonly pass: boolean;
  /** Why it failed, in words; empty when it held. */
  readonly reason: string;
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
  /** Transport errors, 5xx, and 4xx other than 409 (see pathFailed). */
  readonly failed: number;
  /** 409 answers: a booking found its barber's day full (the API's correct answer, not a failure). */
  readonly conflicts: number;
  readonly stoppedEarly: boolean;
  readonly lagP99: number;
  /** Cores used per process over the window (NaN if unknown). */
  readonly cores: Readonly<Record<string, number>>;
  readonly db: DbWork;
  readonly samples: readonly Sample[];
}

export async function runProbe(options: ProbeOptions): Promise<ProbeResult> {
  const { scenario, rate, sloMs } = options;
  // Counts only the samples added since the last call: the check runs before every arrival.
  const stopWhenMissed = (planned: number) => {
    const seen = { n: 0, late: 0, failed: 0 };
    return (samples: readonly Sample[]) => {
      for (; seen.n < samples.length; seen.n++) {
        const sample = samples[seen.n] as Sample;
        if (sample.latencyMs > sloMs) seen.late++;
        if (pathFailed(sample)) seen.failed++;
      }
      if (options.stopEarly === false) return false;
      return certainToMiss({ planned, late: seen.late, failed: seen.failed, maxFailed: options.maxFailed });
    };
  };
  const planned = (seconds: number) => Math.ceil(rate * seconds);
  if (options.warmupSeconds > 0) {
    const warm = await runOpenLoop({
      client: options.client,
      sampler: capacitySampler(scenario, "warmup"),
      rate,
      durationMs: options.warmupSeconds * 1000,
      shouldStop: stopWhenMissed(planned(options.warmupSeconds)),
    });
    if (warm.stopped) return missedInWarmUp(options, warm.samples);
  }
  const cpuBefore = readCpu(options.pids);
  const dbBefore = await readDbStats(options.apiUrl);
  const started = performance.now();
  const measured = await runOpenLoop({
    client: options.client,
    sampler: capacitySampler(scenario, "measure"),
    rate,
    durationMs: options.windowSeconds * 1000,
    shouldStop: stopWhenMissed(planned(options.windowSeconds)),
    onProgress: (p) =>
      options.progress(
        `[${options.label} ${rate}/s] ${(p.elapsedMs / 1000).toFixed(0)}/${options.windowSeconds}s: ${p.completed}/${p.issued} done, ${p.inFlight} in flight`,
      ),
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = readCpu(options.pids);
  const db = dbWork(dbBefore, await readDbStats(options.apiUrl), {
    seconds,
    clientRequests: measured.samples.length,
  });
  const cores = Object.fromEntries(
    Object.keys(options.pids).map((name) => [name, coresUsed(cpuBefore[name], cpuAfter[name], seconds)]),
  );
  const result = judge(options, measured.samples, {
    stoppedEarly: measured.stopped,
    lagP99: percentile(measured.schedulerLagMs, 99),
    cores,
    db,
  });
  options.progress(
    `[${options.label} ${rate}/s] ${result.pass ? "held" : `missed (${result.reason})`}: p95 ${result.p95.toFixed(1)} ms, ${result.n} requests`,
    true,
  );
  return result;
}

/**
 * Whether a sample counts against the path: the capacity probes send bookings without the cancellation
 * pool, so a busy barber's day fills up during a search and the API answers 409 (no free slot), the
 * right answer to that request on either path; every other error counts.
 */
export function pathFailed(sample: Sample): boolean {
  return sample.failed && sample.status !== 409;
}

function readCpu(pids: ProbeOptions["pids"]): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
}

type Extra = Pick<ProbeResult, "stoppedEarly" | "lagP99" | "cores" | "db">;

function judge(options: ProbeOptions, samples: readonly Sample[], extra: Extra): ProbeResult {
  const latencies = samples.map((s) => s.latencyMs);
  const failed = samples.filter(pathFailed).length;
  const p95 = percentile(latencies, 95);
  const held = holds({ p95, failed, sloMs: options.sloMs, maxFailed: options.maxFailed });
  const reasons = [
    held ? "" : failed > options.maxFailed ? `${failed} failed` : `p95 over the ${options.sloMs} ms SLO`,
    extra.stoppedEarly ? "stopped early" : "",
  ].filter(Boolean);
  return {
    rate: options.rate,
    pass: reasons.length === 0,
    reason: reasons.join(", "),
    n: samples.length,
    p50: percentile(latencies, 50),
    p95,
    p99: percentile(latencies, 99),
    mean: latencies.length > 0 ? latencies.reduce((a, b) => a + b, 0) / latencies.length : Number.NaN,
    failed,
    conflicts: samples.filter((s) => s.status === 409).length,
    samples,
    ...extra,
  };
}

function missedInWarmUp(options: ProbeOptions, samples: readonly Sample[]): ProbeResult {
  const zero = { statements: 0, queryMillis: 0, requests: 0 };
  const result = judge(options, samples, {
    stoppedEarly: true,
    lagP99: Number.NaN,
    cores: {},
    db: dbWork(zero, zero, { seconds: 0, clientRequests: 0 }),
  });
  options.progress(`[${options.label} ${options.rate}/s] missed already in the warm-up`, true);
  return { ...result, reason: `missed in the warm-up (${result.reason})` };
}
