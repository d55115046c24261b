import { randomUUID } from "node:crypto";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CircuitBreakerStore, type CircuitState } from "../src/store/circuit-breaker.js";
import { clientCommandTimeoutMs } from "../src/store/deadline.js";
import { StoreError } from "../src/store/errors.js";
import { InstrumentedStore } from "../src/store/instrumented-store.js";
import { MemoryStore } from "../src/store/memory-store.js";
import { createRedisStore } from "../src/store/redis-store.js";
import { TieredStore } from "../src/store/tiered-store.js";

// Item 8 at the store level: Redis dies or hangs mid-run → operations reject fast, the circuit opens
// and stops sending commands, L1 keeps serving; Redis returns → the store recovers by itself.
const COMMAND_TIMEOUT_MS = 50;
const FAST_MARGIN_MS = 150;
const COOL_DOWN_MS = 1_000;
const MAX_ENTRY_AGE_MS = 50;

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

/** The createStore composition, with an observer between the breaker and Redis that counts what reaches Redis. */
function podStore() {
  const reachedRedis: string[] = [];
  const transitions: CircuitState[] = [];
  const redisStore = createRedisStore({
    node: { host: redis.host, port: redis.port },
    keyPrefix: `fail-open-${randomUUID()}`,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    reconnect: { baseMs: 20, maxMs: 200 },
  });
  const observed = new InstrumentedStore(redisStore, (_store, operation) => reachedRedis.push(operation));
  const breaker = new CircuitBreakerStore(observed, {
    failureThreshold: 3,
    coolDownMs: COOL_DOWN_MS,
    onStateChange: (state) => transitions.push(state),
  });
  const l1 = new MemoryStore({ maxBytes: 1 << 20 });
  const store = new TieredStore({ l1, l2: breaker, maxEntryAgeMs: MAX_ENTRY_AGE_MS });
  return { store, breaker, redisStore, reachedRedis, transitions };
}

async function timed<T>(work: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await work;
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

async function pollUntil(
  description: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function redisPid(): Promise<number> {
  const client = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  try {
    await client.connect();
    const match = /process_id:(\d+)/.exec(await client.info("server"));
    return Number(match?.[1]);
  } finally {
    client.disconnect();
  }
}

describe("store fail open", () => {
  it("rejects fast, opens the circuit, serves L1, and recovers by itself when Redis stops and returns", async () => {
    const { store, breaker, redisStore, reachedRedis, transitions } = podStore();
    try {
      await redisStore.ready();
      const cached = Buffer.from("cached before the outage");
      await store.set("cached", cached, { ttlMs: 60_000, tags: ["t"] });
      const setAt = performance.now();

      await redis.stop();

      // Fail fast: every operation rejects with a StoreError within the command timeout (plus scheduling).
      for (let i = 0; i < 3; i++) {
        const attempt = await timed(store.get(`missing-${i}`));
        expect(attempt.error).toBeInstanceOf(StoreError);
        expect(attempt.ms).toBeLessThanOrEqual(COMMAND_TIMEOUT_MS + FAST_MARGIN_MS);
      }
      expect(breaker.state).toBe("open");
      expect(transitions).toEqual(["open"]);

      // Open: operations reject at once with CIRCUIT_OPEN and nothing reaches Redis.
      const reachedBefore = reachedRedis.length;
      const openedAt = performance.now();
      for (let i = 0; i < 20; i++) {
        const attempt = await timed(store.set(`during-${i}`, Buffer.from("x"), { ttlMs: 60_000, tags: [] }));
        expect(attempt.error).toMatchObject({ code: "APICACHE_ERR_STORE_CIRCUIT_OPEN" });
        expect(attempt.ms).toBeLessThanOrEqual(FAST_MARGIN_MS);
      }
      if (performance.now() - openedAt < COOL_DOWN_MS) expect(reachedRedis.length).toBe(reachedBefore);
      expect(store.health().ok).toBe(false);

      // L1 still serves, also once its copy is older than maxEntryAge (L2 is consulted and fails).
      await pollUntil(
        "the L1 copy to age past maxEntryAge",
        async () => performance.now() - setAt > MAX_ENTRY_AGE_MS,
        5_000,
      );
      expect(await store.get("cached")).toEqual(cached);

      await redis.restart();
      const recovery = await pollUntil(
        "the store to write to Redis again",
        async () => {
          await store.set("after", Buffer.from("back"), { ttlMs: 60_000, tags: ["t"] });
          return true;
        },
        COOL_DOWN_MS + 5_000,
      );
      expect(recovery).toBeLessThanOrEqual(COOL_DOWN_MS + 2_000);
      expect(breaker.state).toBe("closed");
      expect(transitions.at(-1)).toBe("closed");
      expect(store.health()).toEqual({ ok: true });
      expect(await redisStore.get("after")).toEqual(Buffer.from("back"));
    } finally {
      await store.close();
    }
  });

  it("rejects with APICACHE_ERR_STORE_TIMEOUT within the command timeout when Redis hangs", async () => {
    const { store, redisStore } = podStore();
    const pid = await redisPid();
    try {
      await redisStore.ready();
      await store.set("k", Buffer.from("v"), { ttlMs: 60_000, tags: [] });
      process.kill(pid, "SIGSTOP");
      try {
        // A set stores a fill nobody waits on: it has the longer background bound (per round trip;
        // ioredis's own backstop may end it sooner).
        const background = clientCommandTimeoutMs(COMMAND_TIMEOUT_MS);
        const operations: [() => Promise<unknown>, number, number][] = [
          [() => store.get("missing"), COMMAND_TIMEOUT_MS, COMMAND_TIMEOUT_MS],
          [
            () => store.set("k2", Buffer.from("v"), { ttlMs: 60_000, tags: ["t"] }),
            background,
            2 * background,
          ],
          [() => store.delete(["k2"]), COMMAND_TIMEOUT_MS, COMMAND_TIMEOUT_MS],
        ];
        for (const [operation, least, most] of operations) {
          const attempt = await timed(operation());
          expect(attempt.error).toMatchObject({ code: "APICACHE_ERR_STORE_TIMEOUT" });
          expect(attempt.ms).toBeGreaterThanOrEqual(least - 5);
          expect(attempt.ms).toBeLessThanOrEqual(most + FAST_MARGIN_MS);
        }
      } finally {
        process.kill(pid, "SIGCONT");
      }
      await pollUntil(
        "the store to answer again",
        async () => (await redisStore.get("k")) !== undefined,
        5_000,
      );
    } finally {
      await store.close();
    }
  });
});
