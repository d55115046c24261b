import { createSampler, readKeySpace } from "../sampler.js";
import type { Scenario } from "../scenario.js";
import { createHttpClient, type HttpClient } from "./http-client.js";
import { type OpenLoopResult, runOpenLoop } from "./open-loop.js";
import { percentile } from "./stats.js";

/**
 * One phase of a side-by-side run: the scenario against one target (the API directly, or the
 * sidecar in front of it): optional cache priming, an unmeasured warm-up, then the measured run.
 */
export interface PhaseOptions {
  readonly label: string;
  readonly baseUrl: string;
  readonly scenario: Scenario;
  /** Read every key of the scenario's read key space once before the warm-up. */
  readonly prime: boolean;
  readonly progress: (line: string, final?: boolean) => void;
}

export interface PhaseResult extends OpenLoopResult {
  readonly label: string;
  readonly primedKeys: number;
  readonly primeMillis: number;
  readonly warmupErrors: string[];
}

export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const { scenario, label } = options;
  const client = createHttpClient(options.baseUrl);
  try {
    const primeStarted = performance.now();
    const primedKeys = options.prime ? await prime(client, scenario, options.progress, label) : 0;
    const primeMillis = Math.round(performance.now() - primeStarted);
    let warmupErrors: string[] = [];
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
    }
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
    return { ...measured, label, primedKeys, primeMillis, warmupErrors };
  } finally {
    client.close();
  }
}

/** Requests each distinct read once, two at a time (so priming does not flood the upstream). */
async function prime(
  client: HttpClient,
  scenario: Scenario,
  progress: PhaseOptions["progress"],
  label: string,
): Promise<number> {
  const keys = readKeySpace(scenario);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < keys.length) {
      const request = keys[next++];
      if (!request) break;
      const response = await client.send(request.method, request.path, { headers: request.headers });
      if (response.status >= 400)
        throw new Error(`priming ${request.path}: HTTP ${response.status} ${response.body.slice(0, 200)}`);
      done++;
      progress(`[${label}] priming the cache ${done}/${keys.length}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return keys.length;
}
