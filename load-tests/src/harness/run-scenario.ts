import { createSampler, independentWriteSampler, readKeySpace } from "../sampler.js";
import type { Scenario } from "../scenario.js";
import { classifyCacheStatus } from "./cache-status.js";
import { createHttpClient, type HttpClient, sendRequest } from "./http-client.js";
import { type OpenLoopResult, runOpenLoop } from "./open-loop.js";
import { percentile, type Sample, type TimedRequest } from "./stats.js";

/**
 * One phase of a side-by-side run: the scenario against one target (the API directly, or the
 * sidecar in front of it): optional cache priming, an unmeasured warm-up, then the measured run.
 */
export interface PhaseOptions {
  readonly label: string;
  readonly baseUrl: string;
  /**
   * Send through this client instead of one for `baseUrl` (e.g. round robin over replicas,
   * createRoundRobinClient); the caller closes it.
   */
  readonly client?: HttpClient;
  readonly scenario: Scenario;
  /** Read every key of the scenario's read key space once before the warm-up. */
  readonly prime: boolean;
  /**
   * Before that, send this many of the scenario's idempotent updates (PUT writes that need no
   * earlier write) one at a time: a long-running process has run its write path thousands of times,
   * and a fresh one runs it unoptimized for its first few hundred (load-testing.md).
   */
  readonly primeWrites: number;
  readonly progress: (line: string, final?: boolean) => void;
  /** Awaited after the warm-up, right before the measured run (e.g. to read counters at its start). */
  readonly beforeMeasured?: () => Promise<void>;
}

export interface PhaseResult extends OpenLoopResult {
  readonly label: string;
  readonly primedWrites: number;
  readonly primedKeys: number;
  readonly primeMillis: number;
  readonly warmupErrors: string[];
  /** The priming reads and the warm-up's requests, in that order: what the path answered before the run. */
  readonly earlierSamples: Sample[];
  /** The warm-up's reads that verified its writes (what `checkReads` is for the measured run). */
  readonly earlierCheckReads: TimedRequest[];
}

export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const { scenario, label } = options;
  const client = options.client ?? createHttpClient(options.baseUrl);
  try {
    const primedWrites = await primeWrites(client, scenario, options.primeWrites, (done, total) =>
      options.progress(`[${label}] priming the write path ${done}/${total}`),
    );
    const primeStarted = performance.now();
    const earlierSamples = options.prime ? await prime(client, scenario, options.progress, label) : [];
    const primedKeys = earlierSamples.length;
    const primeMillis = Math.round(performance.now() - primeStarted);
    let warmupErrors: string[] = [];
    let earlierCheckReads: TimedRequest[] = [];
    if (scenario.warmupSeconds > 0) {
      const warm = await runOpenLoop({
        client,
        sampler: createSampler(scenario, scenario.seed + 1_000_003),
        rate: scenario.arrivalRate,
        durationMs: scenario.warmupSeconds * 1000,
        onProgress: (p) =>
          options.progress(
            `[${label}] warm-up ${(p.elapsedMs / 1000).toFixed(0)}/${scenario.warmupSeconds}s`,
          ),
      });
      warmupErrors = warm.errors;
      earlierSamples.push(...warm.samples);
      earlierCheckReads = warm.checkReads;
    }
    await options.beforeMeasured?.();
    const measured = await runOpenLoop({
      client,
      sampler: createSampler(scenario),
      rate: scenario.arrivalRate,
      durationMs: scenario.durationSeconds * 1000,
      onProgress: (p) =>
        options.progress(
          `[${label}] measuring ${(p.elapsedMs / 1000).toFixed(0)}/${scenario.durationSeconds}s: ${p.completed}/${p.issued} done, ${p.inFlight} in flight`,
        ),
    });
    const lag = percentile(measured.schedulerLagMs, 99);
    options.progress(
      `[${label}] done: ${measured.samples.length} requests, generator lag p99 ${lag.toFixed(1)} ms`,
      true,
    );
    return {
      ...measured,
      label,
      primedWrites,
      primedKeys,
      primeMillis,
      warmupErrors,
      earlierSamples,
      earlierCheckReads,
    };
  } finally {
    if (options.client === undefined) client.close();
  }
}

/** Idempotent updates, one at a time; resolves to how many were sent (0 for a read-only scenario). */
async function primeWrites(
  client: HttpClient,
  scenario: Scenario,
  count: number,
  progress: (done: number, total: number) => void,
): Promise<number> {
  const sampler = independentWriteSampler(scenario, scenario.seed + 7, (w) => w.method === "PUT");
  if (count <= 0 || scenario.writeRatio === 0 || sampler === undefined) return 0;
  for (let done = 1; done <= count; done++) {
    const request = sampler.next();
    const response = await sendRequest(client, request);
    if (response.status >= 400)
      throw new Error(
        `priming ${request.method} ${request.path}: HTTP ${response.status} ${response.body.slice(0, 200)}`,
      );
    if (done % 50 === 0 || done === count) progress(done, count);
  }
  return count;
}

/**
 * Requests each distinct read once, two at a time (so priming does not flood the upstream); resolves
 * to one sample per read.
 */
export async function prime(
  client: HttpClient,
  scenario: Scenario,
  progress: PhaseOptions["progress"],
  label: string,
): Promise<Sample[]> {
  const keys = readKeySpace(scenario);
  const samples: Sample[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const request = keys[next++];
      if (!request) break;
      const response = await client.send(request.method, request.path, { headers: request.headers });
      if (response.status >= 400)
        throw new Error(`priming ${request.path}: HTTP ${response.status} ${response.body.slice(0, 200)}`);
      samples.push({
        name: request.name,
        endpoint: request.endpoint,
        method: request.method,
        path: request.path,
        status: response.status,
        latencyMs: response.latencyMs,
        cache: classifyCacheStatus(response.headers["cache-status"] as string | undefined),
        failed: false,
      });
      progress(`[${label}] priming the cache ${samples.length}/${keys.length}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return samples;
}
