import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { type RedisSentinel, startRedisSentinel } from "@apicache/testkit/redis-sentinel";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "./support/harness.js";
import { type Replicas, startReplicas } from "./support/replicas.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";
import { startSteadyLoad, type VersionedUpstream, versionedUpstream } from "./support/versioned-load.js";

/** Three sidecar processes on one Redis: what one fills, the others serve without the upstream. */
describe("replicas sharing one Redis", () => {
  /** Clients reach every replica through one Service name: the Host (part of the key) is the same. */
  const HOST = { host: "api.test.svc" };
  let redis: RedisServer;
  let upstream: TestUpstream;
  let replicas: Replicas;
  let upstreamGets = 0;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      if (req.method === "GET") upstreamGets++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: req.url }));
    });
    replicas = await startReplicas({
      count: 3,
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: {
        store: { redis: { urlSecretRef: { name: "r", key: "url" } } },
        routes: [{ name: "catalog", path: "/services/:id", ttl: "5m" }],
      },
    });
  }, 60_000);

  afterAll(async () => {
    await replicas?.stop();
    await upstream?.close();
    await redis?.stop();
  });

  it("serves a response filled through one replica from the others", async () => {
    const [a, b, c] = replicas.replicas;
    const first = await send(a?.proxy ?? "", "/services/7", { headers: HOST });
    expect(first.cacheStatus).toContain("fwd=uri-miss");
    for (const replica of [b, c]) {
      const answer = await send(replica?.proxy ?? "", "/services/7", { headers: HOST });
      expect(answer.body).toBe(first.body);
      expect(answer.cacheStatus).toContain("hit");
    }
    expect(upstreamGets).toBe(1);
  });

  it("drops an entry invalidated by key through one replica from the others' L1 (a pushed key mark)", async () => {
    const [a, b] = replicas.replicas as [Replicas["replicas"][number], Replicas["replicas"][number]];
    await send(a.proxy, "/services/k", { headers: HOST });
    /** B's Redis reads so far (an L1 hit reads none). */
    const redisGets = async () =>
      (await send(b.admin, "/metrics")).body
        .split("\n")
        .filter((line) =>
          /^apicache_store_operation_duration_seconds_count\{.*operation="get".*store="redis"/.test(line),
        )
        .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
    await waitFor("B to serve the entry from its L1", async () => {
      const before = await redisGets();
      const answer = await send(b.proxy, "/services/k", { headers: HOST });
      return answer.cacheStatus.includes("hit") && (await redisGets()) === before;
    });
    const gets = upstreamGets;
    const key = `GET|http|${HOST.host}||/services/k|accept~&accept-language~|public`;
    const invalidated = await send(a.admin, "/invalidate", {
      method: "POST",
      body: JSON.stringify({ keys: [key] }),
      headers: { authorization: `Bearer ${replicas.adminToken}`, "content-type": "application/json" },
    });
    expect(JSON.parse(invalidated.body)).toEqual({ removed: 1 });
    const after = await send(b.proxy, "/services/k", { headers: HOST });
    expect(after.cacheStatus).toContain("fwd=uri-miss");
    expect(upstreamGets).toBe(gets + 1);
  });
});

/**
 * The same through Redis Sentinel (issue #14: "then through Sentinel"): three sidecars find the
 * primary through the sentinels, share what they fill, and keep answering, with no read older than a
 * write answered before it, through a SENTINEL FAILOVER under a steady stream spread over all three.
 */
describe("replicas sharing one Redis through Sentinel", () => {
  const HOST = { host: "api.test.svc" };
  let sentinel: RedisSentinel;
  let app: VersionedUpstream;
  let replicas: Replicas;

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    app = await versionedUpstream();
    replicas = await startReplicas({
      count: 3,
      upstream: app.upstream.url,
      redisUrl: sentinel.url,
      spec: {
        store: { redis: { urlSecretRef: { name: "r", key: "url" } }, memory: { maxEntryAge: "0s" } },
        routes: [{ name: "items", path: "/items/:id", ttl: "5m" }],
      },
    });
  }, 60_000);

  afterAll(async () => {
    await replicas?.stop();
    await app?.upstream.close();
    await sentinel?.stop();
  });

  /** Fills /items/<id> through the first replica; resolves once the other two serve it as a hit. */
  async function sharedAcross(id: string): Promise<void> {
    const [a, ...others] = replicas.replicas;
    const gets = () => app.upstream.count(`/items/${id}`, "GET");
    await waitFor(`/items/${id} filled through replica 0 to be a hit through the others`, async () => {
      const before = gets();
      const first = await send(a?.proxy ?? "", `/items/${id}`, { headers: HOST });
      const answers = await Promise.all(
        others.map((replica) => send(replica.proxy, `/items/${id}`, { headers: HOST })),
      );
      return (
        answers.every((answer) => answer.body === first.body && /;\s*hit/.test(answer.cacheStatus)) &&
        gets() - before <= 1
      );
    });
  }

  it("serves a response filled through one replica from the others", async () => {
    await sharedAcross("7");
  });

  it("keeps every replica answering, never with data older than a write, through a failover", async () => {
    const load = startSteadyLoad({
      targets: replicas.replicas.map((replica) => replica.proxy),
      items: 48,
      writeEvery: 10,
      concurrency: 6,
      headers: HOST,
    });
    try {
      await waitFor("the load to hit the cache", () => load.report().hits > 100, { timeoutMs: 20_000 });
      await sentinel.failover();
      await sharedAcross("after-failover");
      const hits = load.report().hits;
      await waitFor("the load to hit the cache again", () => load.report().hits > hits + 100, {
        timeoutMs: 20_000,
      });
    } finally {
      const report = await load.stop();
      expect(report.failures).toEqual([]);
      expect(report.stale).toEqual([]);
      expect(report.writes).toBeGreaterThan(0);
    }
  }, 60_000);
});
