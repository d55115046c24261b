import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from "../src/redis.js";

describe("testkit redis", () => {
  describe("a standalone redis-server", () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => server?.stop());

    it("serves commands through ioredis", async () => {
      const client = new Redis(server.url);
      await client.set("greeting", "hello");
      expect(await client.get("greeting")).toBe("hello");
      client.disconnect();
    });

    it("restarts empty on the same port", async () => {
      const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
      await client.set("before", "1");
      await server.restart();
      await expect(client.get("before")).resolves.toBeNull();
      client.disconnect();
    });
  });

  describe("a 3-node Redis Cluster", () => {
    let cluster: RedisCluster;
    beforeAll(async () => {
      cluster = await startRedisCluster();
    });
    afterAll(async () => cluster?.stop());

    it("spreads keys over three masters that ioredis Cluster routes to", async () => {
      const client = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
      const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
      for (const key of keys) await client.set(key, key.toUpperCase());
      for (const key of keys) expect(await client.get(key)).toBe(key.toUpperCase());
      const owners = await Promise.all(client.nodes("master").map((node) => node.dbsize()));
      expect(owners).toHaveLength(3);
      expect(owners.every((count) => count > 0)).toBe(true);
      expect(cluster.url).toMatch(/^redis\+cluster:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
      client.disconnect();
    });
  });
});
