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
    failoverDetector: true,
    ...(sentinel.password === undefined ? {} : { password: sentinel.password }),
    ...(sentinel.sentinelPassword === undefined ? {} : { sentinelPassword: sentinel.sentinelPassword }),
    ...(sentinel.tls === undefined
      ? {}
      : { tls: sentinel.tls, sentinelTLS: sentinel.tls, enableTLSForSentinelMode: true }),
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
      expect(sentinel.nodes).toContainEqual(after);
      // (Not asserted: that it kept "after-failover". Replication is asynchronous, and the replica the
      // sentinels elect may not have caught up with a primary promoted a moment before.)
      const client = sentinelClient(sentinel);
      try {
        await client.set("after-kill", "yes");
        const elected = sentinel.client(after);
        try {
          expect(await elected.get("after-kill")).toBe("yes");
        } finally {
          elected.disconnect();
        }
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

  describe("with TLS everywhere", () => {
    let sentinel: RedisSentinel;
    beforeAll(async () => {
      sentinel = await startRedisSentinel({ tls: true, password: "data-pass" });
    }, 60_000);
    afterAll(async () => sentinel?.stop());

    it("serves TLS clients that trust its CA, and fails over over TLS", async () => {
      expect(sentinel.url).toMatch(/^rediss\+sentinel:\/\/:data-pass@/);
      expect(sentinel.caFile).toBeDefined();
      const [primary] = sentinel.nodes;
      const plain = new Redis({
        host: primary?.host,
        port: primary?.port,
        password: "data-pass",
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: 1_000,
      });
      plain.on("error", () => {});
      try {
        await expect(plain.ping()).rejects.toThrow();
      } finally {
        plain.disconnect();
      }
      const client = sentinelClient(sentinel);
      try {
        await client.set("over-tls", "yes");
        const promoted = await sentinel.failover();
        expect(promoted).not.toEqual(primary);
        const direct = sentinel.client(promoted);
        try {
          expect(await direct.get("over-tls")).toBe("yes");
          // The client moves once the sentinels announce the switch (until then it writes to the old primary).
          let attempt = 0;
          await waitFor("the client to write to the promoted primary", async () => {
            const value = String(++attempt);
            await client.set("after", value).catch(() => undefined);
            return (await direct.get("after")) === value;
          });
        } finally {
          direct.disconnect();
        }
      } finally {
        client.disconnect();
      }
    }, 30_000);
  });
});
