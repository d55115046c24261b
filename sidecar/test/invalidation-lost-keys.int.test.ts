import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from "@apicache/testkit/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * Issue #12, finding 1: invalidation must not depend on keys Redis may drop. Under `allkeys-lru`, or
 * after a failover to a replica that missed writes, any one key apicache wrote can vanish. For every
 * key one fill creates in Redis (found with SCAN), this deletes exactly that key, then writes, then
 * reads: the read must never be a hit on pre-write data — through one sidecar (L1 + Redis, the write
 * on the same pod) and through two (L1 off, the write on the other pod).
 */
const SPEC_ROUTES = {
  routes: [{ name: "items", path: "/api/items/:id", tags: ["items", "item:{id}"] }],
  // The write's URI is not the entry's: only the "items" tag links them (no target-URI tag in common).
  invalidate: [{ name: "order-placed", path: "/api/orders", methods: ["POST"], tags: ["items"] }],
};
const host = { host: "api.test" };
/** The keys a fill and a write leave in Redis: entry, tag set, generation, key-invalidation mark. */
const LASTING_PARTS = [":k|", ":t|", ":g|", ":d|"];

interface Backend {
  readonly url: string;
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  stop(): Promise<void>;
}

/** Every key of every node (SCAN, one client per node: a cluster's keys live on all masters). */
async function scanAll(nodes: readonly Redis[], prefix: string): Promise<Map<string, Redis>> {
  const found = new Map<string, Redis>();
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      for (const key of keys) found.set(key, node);
      cursor = next;
    } while (cursor !== "0");
  }
  return found;
}

function describeLostKeys(name: string, start: () => Promise<Backend>): void {
  describe(`invalidation with any one Redis key lost (${name})`, () => {
    let backend: Backend;
    let admins: Redis[];
    let upstream: TestUpstream;
    let version = 0;
    const sidecars: Sidecar[] = [];

    beforeAll(async () => {
      backend = await start();
      admins = backend.nodes.map((node) => new Redis({ host: node.host, port: node.port }));
      upstream = await startUpstream((req, res) => {
        if (req.method !== "GET") version++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ url: req.url, version }));
      });
    }, 60_000);

    afterAll(async () => {
      await Promise.all(sidecars.map((sidecar) => sidecar.close()));
      for (const admin of admins ?? []) admin.disconnect();
      await upstream?.close();
      await backend?.stop();
    });

    /** Each test its own key prefix: a store still finishing in the background cannot disturb the next. */
    const sidecar = async (maxEntryAge: string, keyPrefix: string): Promise<Sidecar> => {
      const started = await startTestSidecar({
        upstream: upstream.url,
        redisUrl: backend.url,
        spec: {
          store: {
            redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix },
            memory: { maxEntryAge },
          },
          ...SPEC_ROUTES,
        },
      });
      sidecars.push(started);
      return started;
    };

    /** Fills `path` through `reader` (after a write, so the fill is fresh) and checks it then hits. */
    const fill = async (reader: Sidecar, writer: Sidecar, path: string): Promise<void> => {
      await send(writer.url, "/api/orders", { method: "POST", headers: host, body: "{}" });
      const stored = await send(reader.url, path, { headers: host });
      expect(stored.cacheStatus).toContain("stored");
      // The fill's write to Redis finishes after its response (on a cluster, in several round trips).
      await eventually(
        async () => (await send(reader.url, path, { headers: host })).cacheStatus.startsWith("apicache; hit"),
        5_000,
        `a hit on ${path}`,
      );
    };

    const checkEveryKey = async (
      reader: Sidecar,
      writer: Sidecar,
      path: string,
      prefix: string,
    ): Promise<string[]> => {
      await Promise.all(admins.map((admin) => admin.flushall()));
      await fill(reader, writer, path);
      // A hit can come from the in-process tier while the last of the fill's writes (on a cluster,
      // several nodes) is still on its way: wait until Redis holds the entry, a tag set and a generation.
      let created: string[] = [];
      await eventually(
        async () => {
          // What the fill and the write leave behind; not a fill lease (`:l|`), gone once the fill ends.
          const left = [...(await scanAll(admins, prefix)).keys()];
          created = left.filter((key) => LASTING_PARTS.some((part) => key.includes(part))).sort();
          return [":k|", ":t|", ":g|"].every((part) => created.some((key) => key.includes(part)));
        },
        5_000,
        `the entry, tag set and generation of ${path} in Redis`,
      );
      const servedStale: string[] = [];
      for (const lost of created) {
        // Each key on its own: a clean slate, a fresh fill, then exactly that key lost.
        await Promise.all(admins.map((admin) => admin.flushall()));
        await fill(reader, writer, path);
        let owner: Redis | undefined;
        await eventually(
          async () => {
            owner = (await scanAll(admins, prefix)).get(lost);
            return owner !== undefined;
          },
          5_000,
          `the fill to re-create ${lost}`,
        );
        expect(await owner?.del(lost)).toBe(1);
        const write = await send(writer.url, "/api/orders", { method: "POST", headers: host, body: "{}" });
        expect(write.status).toBe(200);
        const read = await send(reader.url, path, { headers: host });
        const seen = (JSON.parse(read.body) as { version: number }).version;
        if (seen !== version) servedStale.push(`${lost} (${read.cacheStatus})`);
      }
      return servedStale;
    };

    it("never serves pre-write data through one sidecar (L1 + Redis, write on the same pod)", async () => {
      const pod = await sidecar("1s", "one-pod");
      expect(await checkEveryKey(pod, pod, "/api/items/1", "one-pod")).toEqual([]);
    });

    it("never serves pre-write data across two sidecars (the write on the other pod)", async () => {
      const reader = await sidecar("0s", "two-pods");
      const writer = await sidecar("0s", "two-pods");
      expect(await checkEveryKey(reader, writer, "/api/items/2", "two-pods")).toEqual([]);
    });
  });
}

describeLostKeys("standalone Redis", async (): Promise<Backend> => {
  const redis: RedisServer = await startRedis();
  return { url: redis.url, nodes: [{ host: redis.host, port: redis.port }], stop: () => redis.stop() };
});

describeLostKeys("Redis Cluster", async (): Promise<Backend> => {
  const cluster: RedisCluster = await startRedisCluster();
  return { url: cluster.url, nodes: cluster.nodes, stop: () => cluster.stop() };
});
