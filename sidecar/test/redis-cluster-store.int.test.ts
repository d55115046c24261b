import { randomUUID } from "node:crypto";
import { type RedisCluster, startRedisCluster } from "@apicache/testkit/redis";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore } from "../src/store/create-store.js";
import { createRedisClusterStore } from "../src/store/redis-cluster-store.js";
import { entryKey, tagKey } from "../src/store/redis-layout.js";
import { describeStoreContract } from "./store-contract.js";

let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

const clusterStore = (keyPrefix: string) =>
  createRedisClusterStore({ nodes: cluster.nodes, keyPrefix, commandTimeoutMs: 500 });

describeStoreContract("redis-cluster", ({ keyPrefix }) => clusterStore(keyPrefix), { sharedBackend: true });

describeStoreContract(
  "tiered (memory over redis-cluster, via createStore)",
  ({ keyPrefix }) =>
    createStore({
      redisUrl: cluster.url,
      keyPrefix,
      commandTimeoutMs: 500,
      memoryMaxBytes: 16 * 1024 * 1024,
      maxEntryAgeMs: 1_000,
    }),
  { sharedBackend: true },
);

describe("redis-cluster store", () => {
  it("spreads one tag's entries over every master and still invalidates them all", async () => {
    const prefix = `spread-${randomUUID()}`;
    const store = clusterStore(prefix);
    const admin = new Cluster(
      cluster.nodes.map((node) => ({ ...node })),
      { lazyConnect: true },
    );
    try {
      await admin.connect();
      const keys = Array.from({ length: 60 }, (_, i) => `GET /items/${i}`);
      await Promise.all(
        keys.map((key) => store.set(key, Buffer.from(key), { ttlMs: 60_000, tags: ["items"] })),
      );
      const owners = new Set(
        await Promise.all(
          keys.map(async (key) => {
            const slot = Number(await admin.cluster("KEYSLOT", entryKey(prefix, key)));
            return admin.slots[slot]?.[0];
          }),
        ),
      );
      expect(owners.size).toBe(3);
      expect(await store.deleteTags(["items"])).toBe(60);
      expect(await Promise.all(keys.map((key) => store.get(key)))).toEqual(keys.map(() => undefined));
      expect(await admin.exists(tagKey(prefix, "items"))).toBe(0);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });
});
