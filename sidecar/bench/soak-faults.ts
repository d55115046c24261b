/**
 * The soak's faults and its policy: a cycle of four brief faults (Redis killed and restarted, Redis
 * paused with CLIENT PAUSE, the upstream restarted, the policy reloaded), each injected and judged
 * by the fault suite's own pieces (fault-steps.ts, runFault, the load's checker) with no alert
 * expected: the soak has no Prometheus, it watches the process instead.
 */
import { waitFor } from "@apicache/testkit/wait";
import type { AlertRecorder } from "../test/faults/fault-alerts.js";
import type { FaultLoad } from "../test/faults/fault-load.js";
import { type FaultResult, type FaultSteps, runFault } from "../test/faults/fault-run.js";
import { redisKilled, redisPaused, upstreamRestarted } from "../test/faults/fault-steps.js";
import { type FaultRow, faultRow } from "../test/faults/fault-table.js";
import type { FaultUpstream } from "../test/faults/fault-upstream.js";
import type { FaultRedis } from "../test/faults/redis-fault-servers.js";
import type { ConfigMapVolume } from "../test/support/configmap-volume.js";
import { policyText } from "../test/support/harness.js";

/** The soak's policy; `publicTtl` is what a reload changes. */
export function soakPolicy(l1MiB: number, publicTtl = "5m"): string {
  return policyText(
    {
      upstream: { port: 8080, timeout: "1s" },
      store: {
        redis: { urlSecretRef: { name: "redis", key: "url" }, keyPrefix: "soak", commandTimeout: "50ms" },
        memory: { maxBytes: `${l1MiB}Mi` },
      },
      identity: { headers: ["x-user"] },
      defaults: { ttl: "5m", staleWhileRevalidate: "0s", staleIfError: "1m" },
      routes: [
        { name: "public-items", path: "/public/items/:id", ttl: publicTtl, tags: ["public:{id}"] },
        { name: "my-items", path: "/me/items/:id", key: { scope: "PerUser" }, tags: ["me:{id}"] },
      ],
      invalidate: [
        { name: "public-written", path: "/public/items/:id", methods: ["PUT"], tags: ["public:{id}"] },
        { name: "mine-written", path: "/me/items/:id", methods: ["PUT"], tags: ["me:{id}"] },
      ],
    },
    "soak",
  );
}

export interface SoakWorld {
  readonly redis: FaultRedis;
  readonly upstream: FaultUpstream;
  readonly volume: ConfigMapVolume;
  readonly l1MiB: number;
  /** The sidecar's `apicache_config_reloads_total{result="success"}`. */
  reloadsOk(): Promise<number>;
}

export interface SoakFault {
  readonly row: FaultRow;
  steps(world: SoakWorld): FaultSteps;
}

/**
 * A reload of a valid policy that changes a route's TTL, cleared once the sidecar counted it applied.
 * The TTL follows the sidecar's own count of reloads (4m, 5m, 4m, …), so every reload of a run changes
 * the policy: each fault gets fresh steps, and a flip counted in them wrote 4m every time, which the
 * sidecar rightly took as no change from the second reload on.
 */
export function policyReloaded(world: SoakWorld): FaultSteps {
  let before = 0;
  return {
    inject: async () => {
      before = await world.reloadsOk();
      await world.volume.update(soakPolicy(world.l1MiB, before % 2 === 0 ? "4m" : "5m"));
    },
    clear: async () => {
      await waitFor(
        "the sidecar to apply the reloaded policy",
        async () => (await world.reloadsOk()) > before,
        {
          timeoutMs: 15_000,
          intervalMs: 100,
        },
      );
    },
  };
}

const quiet = (row: FaultRow): FaultRow => ({ ...row, alert: undefined });

/** In order, round and round; holds as in the fault suite (3 s, or the pause's own length). */
export const SOAK_FAULTS: readonly SoakFault[] = [
  { row: quiet(faultRow("redis-killed")), steps: (w) => redisKilled(w.redis) },
  { row: quiet(faultRow("redis-client-pause")), steps: (w) => redisPaused(w.redis, 3_000) },
  { row: quiet(faultRow("upstream-killed")), steps: (w) => upstreamRestarted(w.upstream) },
  {
    row: {
      id: "policy-reloaded",
      failure: "A valid policy change reaches the pod's ConfigMap volume",
      injected: "the volume's ..data symlink swapped to a policy with another TTL",
      clientsSee: "nothing",
      alert: undefined,
      recoverWithinMs: 10_000,
      whatToDo: "Nothing",
    },
    steps: policyReloaded,
  },
];

/** The soak never waits for an alert: nothing is ever raised. */
const NO_ALERTS: AlertRecorder = {
  samples: [],
  raisedBetween: () => [],
  activeNow: () => false,
  stop: async () => undefined,
};

/** Fault number `n` (0-based) of the cycle, run under the load from `from`; the row and where it ends. */
export async function runSoakFault(
  n: number,
  world: SoakWorld,
  load: FaultLoad,
  from: number,
): Promise<{ result: FaultResult; end: number; injectedAt: number; problem?: string }> {
  const fault = SOAK_FAULTS[n % SOAK_FAULTS.length] as SoakFault;
  const injectedAt = Date.now();
  try {
    return {
      ...(await runFault({ load, alerts: NO_ALERTS }, fault.row, from, fault.steps(world))),
      injectedAt,
    };
  } catch (error) {
    const end = Date.now();
    const result: FaultResult = {
      id: fault.row.id,
      from,
      to: end,
      summary: load.summarise(from, end),
      expectedAlert: undefined,
      alerts: [],
      faultMs: end - injectedAt,
      recoverMs: undefined,
    };
    return { result, end, injectedAt, problem: (error as Error).message };
  }
}
