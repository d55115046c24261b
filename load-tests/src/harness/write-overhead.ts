import { independentWriteSampler, type Sampler } from "../sampler.js";
import type { Scenario } from "../scenario.js";
import { createHttpClient, type HttpClient, sendRequest } from "./http-client.js";
import { percentile } from "./stats.js";

/**
 * What a write costs through the sidecar, isolated: the scenario's writes (those that need no earlier
 * write) issued one at a time, alternately straight to the API and through the sidecar (ABBA order, so
 * drift cancels), while nothing else runs. In the mixed scenario's direct phase a write waits behind the
 * reads queued at the database, which the sidecar path mostly spares it; this measures the proxy and
 * its invalidation alone.
 *
 * Two windows. `cold`: the first pairs right after the scenario, when the sidecar (and the demo API) have
 * run the write path only a few dozen times and V8 still interprets most of it. `steady`: after an
 * uncounted warm-up long enough for V8 to optimize both processes' write paths, which is what a
 * long-running sidecar pays per write; the acceptance criterion is judged on it. Both are reported.
 */
export interface WriteWindow {
  readonly pairs: number;
  readonly directP50: number;
  readonly sidecarP50: number;
}

export interface WriteOverhead {
  readonly cold: WriteWindow;
  /** Measured after `warmUpPairs` more uncounted pairs. */
  readonly steady: WriteWindow;
  readonly warmUpPairs: number;
  /** Failed writes over both windows and the warm-up. */
  readonly failed: number;
}

export const WRITE_OVERHEAD_PAIRS = { cold: 40, warmUp: 400, steady: 200 } as const;

export type PairClients = Readonly<Record<"direct" | "sidecar", HttpClient>>;

/**
 * `count` pairs of writes, one at a time, direct and through the sidecar in turn (ABBA order, so drift
 * cancels); with `pauseMs`, that long idle before each write. Counts failed writes into `failures`.
 */
export async function alternatingPairs(
  clients: PairClients,
  sampler: Sampler,
  count: number,
  options: { readonly pauseMs?: number; readonly failures?: { count: number } } = {},
): Promise<WriteWindow> {
  const times = { direct: [] as number[], sidecar: [] as number[] };
  for (let i = 0; i < count; i++) {
    for (const target of i % 2 === 0 ? (["direct", "sidecar"] as const) : (["sidecar", "direct"] as const)) {
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs)); // the pacing
      const response = await sendRequest(clients[target], sampler.next());
      if (response.status >= 400 && options.failures) options.failures.count++;
      times[target].push(response.latencyMs);
    }
  }
  return { pairs: count, directP50: percentile(times.direct, 50), sidecarP50: percentile(times.sidecar, 50) };
}

export async function measureWriteOverhead(options: {
  readonly scenario: Scenario;
  readonly directUrl: string;
  readonly sidecarUrl: string;
  readonly pairs?: Partial<typeof WRITE_OVERHEAD_PAIRS>;
}): Promise<WriteOverhead> {
  const counts = { ...WRITE_OVERHEAD_PAIRS, ...options.pairs };
  const sampler = independentWriteSampler(options.scenario, options.scenario.seed + 31);
  if (sampler === undefined)
    throw new Error(`scenario ${options.scenario.name} has no write that can be sent alone`);
  const clients = {
    direct: createHttpClient(options.directUrl),
    sidecar: createHttpClient(options.sidecarUrl),
  };
  const failures = { count: 0 };
  const pairs = (count: number) => alternatingPairs(clients, sampler, count, { failures });
  try {
    await pairs(2); // not counted: opens the keep-alive connection on both paths
    const cold = await pairs(counts.cold);
    await pairs(counts.warmUp);
    const steady = await pairs(counts.steady);
    return { cold, steady, warmUpPairs: counts.warmUp, failed: failures.count };
  } finally {
    clients.direct.close();
    clients.sidecar.close();
  }
}
