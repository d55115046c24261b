import { createSampler } from "../sampler.js";
import type { Scenario } from "../scenario.js";
import { createHttpClient } from "./http-client.js";
import { percentile } from "./stats.js";

/**
 * What a write costs through the sidecar, isolated: the scenario's writes (those that need no earlier
 * write) issued one at a time, alternately straight to the API and through the sidecar (ABBA order, so
 * drift cancels), while nothing else runs. In the mixed scenario's direct phase a write waits behind the
 * reads queued at the database, which the sidecar path mostly spares it; this measures the proxy and
 * its invalidation alone. A few uncounted pairs first open the connections on both paths.
 */
export interface WriteOverhead {
  readonly pairs: number;
  readonly directP50: number;
  readonly sidecarP50: number;
  readonly failed: number;
}

const WARM_UP_PAIRS = 5;

export async function measureWriteOverhead(options: {
  readonly scenario: Scenario;
  readonly directUrl: string;
  readonly sidecarUrl: string;
  readonly pairs: number;
}): Promise<WriteOverhead> {
  const writes = options.scenario.writes.filter((w) => !w.takes && !w.gives);
  const scenario: Scenario = { ...options.scenario, writeRatio: 1, writes };
  const sampler = createSampler(scenario, scenario.seed + 31);
  const direct = createHttpClient(options.directUrl);
  const sidecar = createHttpClient(options.sidecarUrl);
  const times = { direct: [] as number[], sidecar: [] as number[] };
  let failed = 0;
  const send = async (target: "direct" | "sidecar") => {
    const request = sampler.next();
    const client = target === "direct" ? direct : sidecar;
    const response = await client.send(request.method, request.path, {
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    return { ok: response.status < 400, latencyMs: response.latencyMs };
  };
  try {
    // Not counted: opens both keep-alive connections and lets the previous phase's tail settle.
    for (let i = 0; i < WARM_UP_PAIRS; i++)
      for (const target of ["direct", "sidecar"] as const) await send(target);
    for (let i = 0; i < options.pairs; i++) {
      const order = i % 2 === 0 ? (["direct", "sidecar"] as const) : (["sidecar", "direct"] as const);
      for (const target of order) {
        const { ok, latencyMs } = await send(target);
        if (!ok) failed++;
        times[target].push(latencyMs);
      }
    }
  } finally {
    direct.close();
    sidecar.close();
  }
  return {
    pairs: options.pairs,
    directP50: percentile(times.direct, 50),
    sidecarP50: percentile(times.sidecar, 50),
    failed,
  };
}
