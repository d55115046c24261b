import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisBackedStore } from "../src/store/redis-backed-store.js";
import { createRedisStore } from "../src/store/redis-store.js";

/**
 * Found reviewing ADR 0018's push barrier (bulk invalidations): the standalone drain script
 * (TAG_DRAIN_LUA) unpacks every tag's generation key in one `unpack`, and Lua's C stack takes about
 * 8,000 values: an admin invalidation of more tags (its body may be 1 MiB) was refused with
 * "too many results to unpack" — APICACHE_ERR_STORE_COMMAND, not queued, so the entries stayed.
 */
const TAGS = 10_000;

describe("a tag invalidation naming more tags than one Lua unpack takes", () => {
  let redis: RedisServer;
  let store: RedisBackedStore;

  beforeAll(async () => {
    redis = await startRedis();
    store = createRedisStore({ node: redis, keyPrefix: "many", commandTimeoutMs: 5_000 });
    await store.ready();
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });

  it("drops the entries of every tag (standalone, scripted drain)", async () => {
    const tags = Array.from({ length: TAGS }, (_, i) => `t${i}`);
    await store.set("first", Buffer.from("v"), { ttlMs: 60_000, tags: ["t0"] });
    await store.set("last", Buffer.from("v"), { ttlMs: 60_000, tags: [`t${TAGS - 1}`] });
    await store.fence(tags); // every tag has a generation to drop
    await expect(store.deleteTags(tags)).resolves.toBe(2);
    expect([await store.get("first"), await store.get("last")]).toEqual([undefined, undefined]);
  });
});
