import { waitFor } from "@apicache/testkit/wait";
import type { FaultSteps } from "./fault-run.js";
import type { FaultUpstream } from "./fault-upstream.js";
import { type FaultRedis, redisCli } from "./redis-fault-servers.js";

/**
 * Faults that both the fault suite (faults.faults.test.ts) and the soak (sidecar/bench/soak.ts) inject:
 * how each starts and how it is cleared, nothing about how long it is held or how it is judged.
 */

/** Redis killed with SIGKILL, then started again, empty, on its port. */
export function redisKilled(redis: FaultRedis): FaultSteps {
  return { inject: () => redis.kill(), clear: () => redis.start() };
}

/**
 * A full `CLIENT PAUSE … ALL` for `ms`. A new connection's CLIENT UNPAUSE is paused too: the pause ends
 * by its own timeout, and the fault is over once Redis answers a PING again.
 */
export function redisPaused(redis: FaultRedis, ms: number): FaultSteps {
  return {
    inject: async () => {
      // redis-cli exits 0 on a refused command: a pause that did not take must fail here, not pass
      // as a fault that went unnoticed (or fail later as a missing alert).
      const reply = await redisCli(redis.port, "CLIENT", "PAUSE", String(ms), "ALL");
      if (reply !== "OK") throw new Error(`CLIENT PAUSE ${ms} ALL was refused: ${reply}`);
    },
    clear: async () => {
      const pong = async () => (await redisCli(redis.port, "PING")) === "PONG";
      await waitFor("Redis to answer after its pause", pong, { timeoutMs: ms + 10_000 });
    },
    maxHoldMs: ms,
  };
}

/** The upstream stops listening and resets its connections (a killed app), then listens again. */
export function upstreamRestarted(upstream: FaultUpstream): FaultSteps {
  return { inject: () => upstream.kill(), clear: () => upstream.restart() };
}
