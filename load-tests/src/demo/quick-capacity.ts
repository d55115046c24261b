import { type ProbeResult, runProbe } from "../harness/capacity-probe.js";
import { type SearchResult, searchCapacity } from "../harness/capacity-search.js";
import { createHttpClient } from "../harness/http-client.js";
import { readKeySpace } from "../sampler.js";
import type { Scenario } from "../scenario.js";

/**
 * The demo's measuring steps, I/O: the quick unloaded calibration its rate comes from (rate.ts), and
 * the quick capacity probes of its closing line (the bench-capacity machinery with short windows and
 * no bisection).
 */
export async function calibrateReads(apiUrl: string, scenario: Scenario): Promise<Record<string, number[]>> {
  const client = createHttpClient(apiUrl);
  const keys = readKeySpace(scenario);
  const times: Record<string, number[]> = {};
  try {
    for (const template of scenario.reads) {
      const mine = keys.filter((k) => k.name === template.name);
      // Two different keys per template (the first and one from the middle), after one to warm the code.
      const picks = [mine[mine.length - 1], mine[0], mine[Math.floor(mine.length / 2)]];
      const list: number[] = [];
      for (const [i, request] of picks.entries()) {
        if (!request) continue;
        const response = await client.send(request.method, request.path, { headers: request.headers });
        if (response.status >= 400) throw new Error(`calibrating ${request.path}: HTTP ${response.status}`);
        if (i > 0) list.push(response.latencyMs);
      }
      times[template.name] = list;
    }
  } finally {
    client.close();
  }
  return times;
}

export interface QuickCapacityOptions {
  readonly scenario: Scenario;
  readonly apiUrl: string;
  readonly sidecarUrl: string;
  readonly sidecarPid: number | undefined;
  readonly startRate: number;
  readonly maxRate: number;
  readonly sloMs: number;
  readonly windowSeconds: number;
  readonly progress: (line: string, final?: boolean) => void;
}

export async function quickCapacity(options: QuickCapacityOptions): Promise<{
  direct: SearchResult<ProbeResult>;
  sidecar: SearchResult<ProbeResult>;
}> {
  const probeOn =
    (url: string, label: string, pids: Record<string, number | undefined>) => async (rate: number) => {
      const client = createHttpClient(url);
      try {
        return await runProbe({
          client,
          scenario: options.scenario,
          rate,
          windowSeconds: options.windowSeconds,
          warmupSeconds: 1,
          sloMs: options.sloMs,
          maxFailed: 0,
          apiUrl: options.apiUrl,
          pids,
          progress: options.progress,
          label,
        });
      } finally {
        client.close();
      }
    };
  // No bisection (resolution 3: above every factor used): each probe is a ladder step.
  const plan = { factor: 2, resolution: 3, minRate: 0.1 };
  const direct = await searchCapacity(
    { ...plan, start: options.startRate, maxRate: options.maxRate },
    probeOn(options.apiUrl, "direct", {}),
  );
  const sidecar = await searchCapacity(
    { ...plan, factor: 4, start: Math.max(direct.capacity, options.startRate) * 4, maxRate: options.maxRate },
    probeOn(options.sidecarUrl, "sidecar", { sidecar: options.sidecarPid }),
  );
  return { direct, sidecar };
}
