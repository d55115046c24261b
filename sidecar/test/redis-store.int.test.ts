import { randomUUID } from "node:crypto";
import { Redis, ReplyError } from "ioredis";
import { describe, expect, it } from "vitest";
import { createStore } from "../src/store/create-store.js";
import { RedisBackedStore } from "../src/store/redis-backed-store.js";
import {
  entryKey,
  FENCE_MAX_AGE_MS,
  GENERATION_TTL_MS,
  generationKey,
  tagKey,
} from "../src/store/redis-layout.js";
import { createRedisStore } from "../src/store/redis-store.js";
import { sharedRedis } from "./shared-redis.js";
import { describeStoreContract } from "./store-contract.js";

const shared = sharedRedis();

const redisStore = (keyPrefix: string, tagExpirySlackMs?: number) =>
  createRedisStore({
    node: { host: shared.server.host, port: shared.server.port },
    keyPrefix,
    commandTimeoutMs: 500,
    ...(tagExpirySlackMs === undefined ? {} : { tagExpirySlackMs }),
  });

describeStoreContract("redis", ({ keyPrefix }) => redisStore(keyPrefix), { sharedBackend: true });

describeStoreContract(
  "tiered (memory over redis, via createStore)",
  ({ keyPrefix }) =>
    createStore({
      redisUrl: shared.server.url,
      keyPrefix,
      commandTimeoutMs: 500,
      memoryMaxBytes: 16 * 1024 * 1024,
      maxEntryAgeMs: 1_000,
    }),
  { sharedBackend: true },
);

describe("redis store layout", () => {
  it("writes entries and tag sets under the key prefix, with TTLs on both", async () => {
    const prefix = `layout-${randomUUID()}`;
    const store = redisStore(prefix);
    try {
      await store.set("GET /a", Buffer.from("v"), { ttlMs: 10_000, tags: ["slots"] });
      expect(await shared.admin.exists(entryKey(prefix, "GET /a"))).toBe(1);
      expect(await shared.admin.zrange(tagKey(prefix, "slots"), "0", "-1")).toEqual(["GET /a"]);
      expect(await shared.admin.pttl(entryKey(prefix, "GET /a"))).toBeLessThanOrEqual(10_000);
      const tagTtl = await shared.admin.pttl(tagKey(prefix, "slots"));
      expect(tagTtl).toBeGreaterThan(10_000);
    } finally {
      await store.close();
    }
  });

  it("keeps a tag set alive at least as long as its longest-lived member", async () => {
    const prefix = `tag-ttl-${randomUUID()}`;
    const store = redisStore(prefix);
    try {
      await store.set("long", Buffer.from("v"), { ttlMs: 60_000, tags: ["t"] });
      await store.set("short", Buffer.from("v"), { ttlMs: 1_000, tags: ["t"] });
      expect(await shared.admin.pttl(tagKey(prefix, "t"))).toBeGreaterThan(60_000);
    } finally {
      await store.close();
    }
  });

  it("prunes members whose entries expired when the tag set is written again", async () => {
    const prefix = `prune-${randomUUID()}`;
    const store = redisStore(prefix, 0);
    try {
      for (let i = 0; i < 20; i++) await store.set(`gone-${i}`, Buffer.from("v"), { ttlMs: 1, tags: ["t"] });
      const firstScore = Number((await shared.admin.zrange(tagKey(prefix, "t"), "0", "0", "WITHSCORES"))[1]);
      // Members carry the entry's expiry plus a slack; wait on Redis's clock until that has passed.
      const redisNow = async () => {
        const [seconds, micros] = await shared.admin.time();
        return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      };
      const deadline = Date.now() + 15_000;
      while ((await redisNow()) <= firstScore + 20) {
        if (Date.now() > deadline) throw new Error("Redis clock did not pass the member scores");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await store.set("live", Buffer.from("v"), { ttlMs: 60_000, tags: ["t"] });
      expect(await shared.admin.zrange(tagKey(prefix, "t"), "0", "-1")).toEqual(["live"]);
    } finally {
      await store.close();
    }
  });

  it("invalidates tags with sorted-set reads and deletes only, never KEYS or SCAN", async () => {
    const store = redisStore(`no-scan-${randomUUID()}`);
    try {
      await shared.admin.config("RESETSTAT");
      for (let i = 0; i < 50; i++) await store.set(`k${i}`, Buffer.from("v"), { ttlMs: 60_000, tags: ["t"] });
      expect(await store.deleteTags(["t"])).toBe(50);
      const stats = await shared.admin.info("commandstats");
      expect(stats).not.toMatch(/cmdstat_(keys|scan):/);
      expect(stats).toMatch(/cmdstat_zrange:calls=1,/);
    } finally {
      await store.close();
    }
  });

  it("treats a value apicache did not write as a miss", async () => {
    const prefix = `foreign-${randomUUID()}`;
    const store = redisStore(prefix);
    try {
      await shared.admin.set(entryKey(prefix, "k"), "not an apicache envelope", "PX", 60_000);
      expect(await store.get("k")).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe("redis store tag invalidation when Redis refuses the drain script", () => {
  it("falls back to the multi-round-trip drain and still removes every tagged entry", async () => {
    const prefix = `refused-${randomUUID()}`;
    const client = new Redis({ host: shared.server.host, port: shared.server.port });
    const store = new RedisBackedStore({
      name: "redis",
      client,
      keyPrefix: prefix,
      commandTimeoutMs: 500,
      multiKeyDelete: true,
    });
    // What a Redis proxy or a restricted managed service answers to a script touching undeclared keys.
    const refusals: number[] = [];
    Object.assign(client, {
      apicacheTagDrain: () => {
        refusals.push(1);
        return Promise.reject(new ReplyError("ERR script tried accessing a key not declared as an argument"));
      },
    });
    try {
      for (let i = 0; i < 30; i++)
        await store.set(`GET /slots/${i}`, Buffer.from("v"), { ttlMs: 60_000, tags: ["slots"] });
      await store.set("GET /other", Buffer.from("v"), { ttlMs: 60_000, tags: ["other"] });

      expect(await store.deleteTags(["slots"])).toBe(30);
      expect(await store.get("GET /slots/7")).toBeUndefined();
      expect(await store.get("GET /other")).toEqual(Buffer.from("v"));
      expect(await store.deleteTags(["other"])).toBe(1);
      expect(refusals).toHaveLength(1); // refused once, then not asked again
    } finally {
      await store.close();
    }
  });
});

describe("redis store fences", () => {
  it("drops a tag's generation on every invalidation; the next fence creates one never used before", async () => {
    const prefix = `generation-${randomUUID()}`;
    const store = redisStore(prefix);
    try {
      const first = await store.fence(["slots"]);
      const stored = await shared.admin.get(generationKey(prefix, "slots"));
      expect(first.generations).toEqual([stored]);
      const ttl = await shared.admin.pttl(generationKey(prefix, "slots"));
      expect(ttl).toBeGreaterThan(GENERATION_TTL_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(GENERATION_TTL_MS);
      expect((await store.fence(["slots"])).generations).toEqual([stored]);

      await store.deleteTags(["slots", "other"]);
      expect(await shared.admin.exists(generationKey(prefix, "slots"))).toBe(0);
      const second = await store.fence(["slots"]);
      expect(second.generations?.[0]).not.toBe(stored);
    } finally {
      await store.close();
    }
  });

  it("keeps a generation alive at least as long as the entries that recorded it", async () => {
    const prefix = `generation-ttl-${randomUUID()}`;
    const store = redisStore(prefix);
    try {
      const ttlMs = GENERATION_TTL_MS * 3;
      const fence = await store.fence(["slots"]);
      expect(await store.set("fenced", Buffer.from("v"), { ttlMs, tags: ["slots"], fence })).toBe(true);
      await store.set("unfenced", Buffer.from("v"), { ttlMs, tags: ["other"] });
      expect(await shared.admin.pttl(generationKey(prefix, "slots"))).toBeGreaterThan(ttlMs);
      expect(await shared.admin.pttl(generationKey(prefix, "other"))).toBeGreaterThan(ttlMs);
    } finally {
      await store.close();
    }
  });

  it("serves an entry only while every generation it recorded is current", async () => {
    const prefix = `generation-read-${randomUUID()}`;
    const store = redisStore(prefix);
    try {
      await store.set("k", Buffer.from("v"), { ttlMs: 60_000, tags: ["a", "b"] });
      expect(await store.get("k", { tags: ["a", "b"] })).toEqual(Buffer.from("v"));
      // The hint may name fewer tags (or none): the entry's other tags are still checked.
      expect(await store.get("k", { tags: ["a"] })).toEqual(Buffer.from("v"));
      expect(await store.get("k")).toEqual(Buffer.from("v"));

      // A generation re-created at another value (an old one lost, then a fill elsewhere): a miss.
      await shared.admin.set(generationKey(prefix, "b"), "someone-else", "PX", 60_000);
      expect(await store.get("k", { tags: ["a", "b"] })).toBeUndefined();
      expect(await store.get("k", { tags: ["a"] })).toBeUndefined();
      // Lost (evicted, expired, or missed by a replica): a miss, whichever tags the caller named.
      await shared.admin.del(generationKey(prefix, "b"));
      expect(await store.get("k")).toBeUndefined();
      expect(await shared.admin.exists(entryKey(prefix, "k"))).toBe(1);
    } finally {
      await store.close();
    }
  });

  it("treats an entry written before entries recorded generations (envelope version 2) as a miss", async () => {
    const prefix = `generation-v2-${randomUUID()}`;
    const store = redisStore(prefix);
    try {
      const header = Buffer.alloc(12);
      header.set([0xac, 0x02, 0, 0]);
      header.writeDoubleBE(Date.now(), 4);
      await shared.admin.set(
        entryKey(prefix, "old"),
        Buffer.concat([header, Buffer.from("v")]),
        "PX",
        60_000,
      );
      expect(await store.get("old", { tags: [] })).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("refuses a fence too old to be checked (its generations may have expired since)", async () => {
    const store = redisStore(`old-fence-${randomUUID()}`);
    try {
      const fence = await store.fence(["slots"]);
      const old = { ...fence, takenAt: performance.now() - FENCE_MAX_AGE_MS - 1 };
      expect(await store.set("k", Buffer.from("v"), { ttlMs: 60_000, tags: ["slots"], fence: old })).toBe(
        false,
      );
      expect(await store.get("k")).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("never repeats a generation that expired and was created again (no ABA through a fence)", async () => {
    const prefix = `aba-${randomUUID()}`;
    const filling = redisStore(prefix);
    const writing = redisStore(prefix);
    try {
      await writing.deleteTags(["slots"]);
      const fence = await filling.fence(["slots"]);
      // The generation reaches the end of its life during the fill, then another pod's fill re-creates it.
      await shared.admin.pexpire(generationKey(prefix, "slots"), 1);
      await eventuallyTrue(async () => (await shared.admin.exists(generationKey(prefix, "slots"))) === 0);
      await writing.fence(["slots"]);
      expect(await shared.admin.get(generationKey(prefix, "slots"))).not.toBe(fence.generations?.[0]);
      expect(
        await filling.set("k", Buffer.from("pre-write"), { ttlMs: 60_000, tags: ["slots"], fence }),
      ).toBe(false);
      expect(await shared.admin.exists(entryKey(prefix, "k"))).toBe(0);
    } finally {
      await filling.close();
      await writing.close();
    }
  });

  it("still invalidates when Redis is out of memory (dropping generations and entries needs none)", async () => {
    const prefix = `oom-${randomUUID()}`;
    const store = redisStore(prefix);
    try {
      await store.set("k", Buffer.from("pre-write"), { ttlMs: 60_000, tags: ["slots"] });
      await shared.admin.config("SET", "maxmemory-policy", "noeviction");
      await shared.admin.config("SET", "maxmemory", "1");
      expect(await store.deleteTags(["slots"])).toBe(1);
      expect(await shared.admin.exists(entryKey(prefix, "k"))).toBe(0);
      expect(await shared.admin.exists(generationKey(prefix, "slots"))).toBe(0);
    } finally {
      await shared.admin.config("SET", "maxmemory", "0");
      await store.close();
    }
  });

  it("refuses to write a fill whose fence could not be taken", async () => {
    const store = redisStore(`unavailable-${randomUUID()}`);
    try {
      const fence = { tags: ["slots"], takenAt: performance.now(), unavailable: true as const };
      expect(await store.set("k", Buffer.from("v"), { ttlMs: 60_000, tags: ["slots"], fence })).toBe(false);
      expect(await store.get("k")).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("checks fences in steps when Redis refuses multi-key scripts, and asks only once", async () => {
    const prefix = `refused-fence-${randomUUID()}`;
    const client = new Redis({ host: shared.server.host, port: shared.server.port });
    const filling = new RedisBackedStore({
      name: "redis",
      client,
      keyPrefix: prefix,
      commandTimeoutMs: 500,
      multiKeyDelete: true,
    });
    const writing = redisStore(prefix);
    const refusals: number[] = [];
    Object.assign(client, {
      apicacheFencedSet: () => {
        refusals.push(1);
        return Promise.reject(new ReplyError("ERR script tried accessing a key not declared as an argument"));
      },
    });
    try {
      const stale = await filling.fence(["slots"]);
      await writing.deleteTags(["slots"]);
      expect(
        await filling.set("k", Buffer.from("old"), { ttlMs: 60_000, tags: ["slots"], fence: stale }),
      ).toBe(false);
      expect(await writing.get("k")).toBeUndefined();

      const fence = await filling.fence(["slots"]);
      expect(await filling.set("k", Buffer.from("new"), { ttlMs: 60_000, tags: ["slots"], fence })).toBe(
        true,
      );
      expect(await writing.get("k")).toEqual(Buffer.from("new"));
      expect(await writing.deleteTags(["slots"])).toBe(1);
      expect(refusals).toHaveLength(1);
    } finally {
      await filling.close();
      await writing.close();
    }
  });
});

describe("tiered store fences (memory over Redis)", () => {
  it("never serves a fill's L1 copy before Redis has taken it past the fence", async () => {
    const prefix = `tiered-fence-${randomUUID()}`;
    const options = {
      redisUrl: shared.server.url,
      keyPrefix: prefix,
      commandTimeoutMs: 500,
      memoryMaxBytes: 1 << 20,
      maxEntryAgeMs: 30_000,
    };
    const a = createStore(options);
    const b = createStore(options);
    try {
      const fence = await a.fence(["slots"]);
      await b.deleteTags(["slots"]); // another pod's write; its response is released after this
      const setting = a.set("k", Buffer.from("pre-write"), { ttlMs: 60_000, tags: ["slots"], fence });
      expect(await a.get("k")).toBeUndefined(); // a read issued meanwhile on the filling pod
      expect(await setting).toBe(false);
      expect(await a.get("k")).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

async function eventuallyTrue(probe: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the condition");
    await new Promise((resolve) => setImmediate(resolve));
  }
}
