import { createSampler } from "../sampler.js";
import type { Scenario } from "../scenario.js";
import { createHttpClient } from "./http-client.js";
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

type Target = "direct" | "sidecar";

export async function measureWriteOverhead(options: {
  readonly scenario: Scenario;
  readonly directUrl: string;
  readonly sidecarUrl: string;
  readonly pairs?: Partial<typeof WRITE_OVERHEAD_PAIRS>;
}): Promise<WriteOverhead> {
  const counts = { ...WRITE_OVERHEAD_PAIRS, ...options.pairs };
  const writes = options.scenario.writes.filter((w) => !w.takes && !w.gives);
  const scenario: Scenario = { ...options.scenario, writeRatio: 1, writes };
  const sampler = createSampler(scenario, scenario.seed + 31);
  const clients = {
    direct: createHttpClient(options.directUrl),
    sidecar: createHttpClient(options.sidecarUrl),
  };
  let failed = 0;
  const pairs = async (count: number): Promise<WriteWindow> => {
    const times: Record<Target, number[]> = { direct: [], sidecar: [] };
    for (let i = 0; i < count; i++) {
      const order: readonly Target[] = i % 2 === 0 ? ["direct", "sidecar"] : ["sidecar", "direct"];
      for (const target of order) {
        const request = sampler.next();
        const response = await clients[target].send(request.method, request.path, {
          headers: request.headers,
          ...(request.body === undefined ? {} : { body: request.body }),
        });
        if (response.status >= 400) failed++;
        times[target].push(response.latencyMs);
      }
    }
    return {
      pairs: count,
      directP50: percentile(times.direct, 50),
      sidecarP50: percentile(times.sidecar, 50),
    };
  };
  try {
    await pairs(2); // not counted: opens the keep-alive connection on both paths
    const cold = await pairs(counts.cold);
    await pairs(counts.warmUp);
    const steady = await pairs(counts.steady);
    return { cold, steady, warmUpPairs: counts.warmUp, failed };
  } finally {
    clients.direct.close();
    clients.sidecar.close();
  }
}
