import { randomUUID } from "node:crypto";
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CircuitBreakerStore } from "../src/store/circuit-breaker.js";
import type { RedisBackedStore } from "../src/store/redis-backed-store.js";
import { createRedisClusterStore } from "../src/store/redis-cluster-store.js";
import { createRedisStore } from "../src/store/redis-store.js";

// Item 2 of the review: a tag indexing 20,000 entries is invalidated completely, in pages each under
// the per-command deadline, without a StoreError and without tripping the circuit breaker.
const MEMBERS = 20_000;
const COMMAND_TIMEOUT_MS = 50;

let redis: RedisServer;
let cluster: RedisCluster;

beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
});

afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

type Make = (keyPrefix: string, commandTimeoutMs: number) => RedisBackedStore;

const targets: [string, Make][] = [
  [
    "standalone",
    (keyPrefix, commandTimeoutMs) =>
      createRedisStore({ node: { host: redis.host, port: redis.port }, keyPrefix, commandTimeoutMs }),
  ],
  [
    "3-node cluster",
    (keyPrefix, commandTimeoutMs) =>
      createRedisClusterStore({ nodes: cluster.nodes, keyPrefix, commandTimeoutMs }),
  ],
];

async function inBatches(count: number, work: (index: number) => Promise<unknown>, batch = 500) {
  for (let start = 0; start < count; start += batch) {
    const indexes = Array.from({ length: Math.min(batch, count - start) }, (_, i) => start + i);
    await Promise.all(indexes.map(work));
  }
}

describe.each(targets)("deleting a tag of %s entries", (_name, make) => {
  it(`removes all ${MEMBERS} entries of one tag without a StoreError or an open circuit`, async () => {
    const keyPrefix = `bulk-${randomUUID()}`;
    // A generous timeout only to load the data on a busy machine; the store under test uses 50 ms.
    const loader = make(keyPrefix, 10_000);
    const store = make(keyPrefix, COMMAND_TIMEOUT_MS);
    const breaker = new CircuitBreakerStore(store, { failureThreshold: 1, coolDownMs: 60_000 });
    try {
      await Promise.all([loader.ready(), store.ready()]);
      const value = Buffer.from("x");
      await inBatches(MEMBERS, (i) =>
        loader.set(`GET /item/${i}`, value, { ttlMs: 600_000, tags: ["big", `item:${i}`] }),
      );
      await loader.set("GET /untagged", value, { ttlMs: 600_000, tags: ["other"] });

      expect(await breaker.deleteTags(["big"])).toBe(MEMBERS);
      expect(breaker.state).toBe("closed");

      const left: string[] = [];
      await inBatches(MEMBERS, async (i) => {
        if ((await loader.get(`GET /item/${i}`)) !== undefined) left.push(`GET /item/${i}`);
      });
      expect(left).toEqual([]);
      expect(await loader.get("GET /untagged")).toEqual(value);
      expect(await breaker.deleteTags(["big"])).toBe(0);
    } finally {
      await Promise.all([loader.close(), store.close()]);
    }
  });
});
