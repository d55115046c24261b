import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisSentinel, startRedisSentinel } from "../src/redis-sentinel.js";
import { waitFor } from "../src/wait.js";

/** The client a Sentinel-aware application uses: the sentinels name the primary. */
function sentinelClient(sentinel: RedisSentinel): Redis {
  return new Redis({
    sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
    name: sentinel.primaryName,
    role: "master",
    ...(sentinel.password === undefined ? {} : { password: sentinel.password }),
    ...(sentinel.sentinelPassword === undefined ? {} : { sentinelPassword: sentinel.sentinelPassword }),
    maxRetriesPerRequest: 1,
  });
}

async function replicatedTo(sentinel: RedisSentinel, key: string, value: string): Promise<number> {
  const seen = await Promise.all(
    sentinel.nodes.map(async (node) => {
      const client = sentinel.client(node);
      client.on("error", () => {});
      try {
        return (await client.get(key)) === value;
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    }),
  );
  return seen.filter(Boolean).length;
}

describe("testkit redis sentinel", () => {
  describe("a primary, two replicas and three sentinels", () => {
    let sentinel: RedisSentinel;
    beforeAll(async () => {
      sentinel = await startRedisSentinel();
    }, 60_000);
    afterAll(async () => sentinel?.stop());

    it("names the first node primary and replicates its writes to both replicas", async () => {
      expect(await sentinel.primary()).toEqual(sentinel.nodes[0]);
      expect(sentinel.url).toMatch(/^redis\+sentinel:\/\/(127\.0\.0\.1:\d+,){2}127\.0\.0\.1:\d+\/apicache$/);
      const client = sentinelClient(sentinel);
      try {
        await client.set("greeting", "hello");
        await waitFor(
          "the write to reach every node",
          async () => (await replicatedTo(sentinel, "greeting", "hello")) === 3,
        );
      } finally {
        client.disconnect();
      }
    });

    it("fails over on SENTINEL FAILOVER: a replica is promoted and keeps the data", async () => {
      const before = await sentinel.primary();
      const after = await sentinel.failover();
      expect(after).not.toEqual(before);
      expect(sentinel.nodes).toContainEqual(after);
      const promoted = sentinel.client(after);
      try {
        expect(await promoted.get("greeting")).toBe("hello");
        await promoted.set("after-failover", "yes");
      } finally {
        promoted.disconnect();
      }
    });

    it("replaces a killed primary with a replica", async () => {
      const before = await sentinel.primary();
      const after = await sentinel.killPrimary();
      expect(after).not.toEqual(before);
      const client = sentinelClient(sentinel);
      try {
        expect(await client.get("after-failover")).toBe("yes");
      } finally {
        client.disconnect();
      }
    }, 30_000);
  });

  describe("with passwords on the data nodes and on the sentinels", () => {
    let sentinel: RedisSentinel;
    beforeAll(async () => {
      sentinel = await startRedisSentinel({ password: "data-p@ss", sentinelPassword: "watch-p@ss" });
    }, 60_000);
    afterAll(async () => sentinel?.stop());

    it("refuses clients without them and serves clients with them", async () => {
      const [primary] = sentinel.nodes;
      const anonymous = new Redis({ host: primary?.host, port: primary?.port, maxRetriesPerRequest: 0 });
      anonymous.on("error", () => {});
      try {
        await expect(anonymous.get("x")).rejects.toThrow(/NOAUTH/);
      } finally {
        anonymous.disconnect();
      }
      const client = sentinelClient(sentinel);
      try {
        await client.set("secret", "kept");
        expect(await client.get("secret")).toBe("kept");
      } finally {
        client.disconnect();
      }
      expect(sentinel.url).toContain(":data-p%40ss@");
      expect(sentinel.url).toContain("?sentinelPassword=watch-p%40ss");
    });
  });
});
