import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, metricValue, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// The data path on the real stores: two sidecars (two "pods") sharing one redis-server.
describe("two sidecars sharing Redis", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let a: Sidecar;
  let b: Sidecar;
  let version = 0;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      if (req.method !== "GET") version++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: req.url, version }));
    });
    const spec = {
      store: { redis: { urlSecretRef: { name: "r", key: "url" } }, memory: { maxEntryAge: "0s" } },
      routes: [{ name: "slots", path: "/slots/:day", tags: ["slots"] }],
      invalidate: [{ name: "booked", path: "/appointments", tags: ["slots"] }],
    };
    a = await startTestSidecar({ upstream: upstream.url, redisUrl: redis.url, spec });
    b = await startTestSidecar({ upstream: upstream.url, redisUrl: redis.url, spec });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await upstream?.close();
    await redis?.stop();
  });

  const host = { host: "api.test" };

  it("answers one pod's request from the entry another pod stored", async () => {
    const first = await send(a.url, "/slots/mon", { headers: host });
    const second = await send(b.url, "/slots/mon", { headers: host });
    expect(first.cacheStatus).toContain("stored");
    expect(second.cacheStatus).toMatch(/^apicache; hit/);
    expect(second.body).toBe(first.body);
    expect(upstream.count("/slots/mon")).toBe(1);
  });

  it("lets a write through one pod invalidate what the other pod serves", async () => {
    await send(a.url, "/slots/tue", { headers: host });
    expect((await send(b.url, "/slots/tue", { headers: host })).cacheStatus).toMatch(/^apicache; hit/);
    await send(a.url, "/appointments", { method: "POST", headers: host, body: "{}" });
    const after = await send(b.url, "/slots/tue", { headers: host });
    expect(after.cacheStatus).toContain("stored");
    expect(JSON.parse(after.body).version).toBe(version);
  });

  it("fails open to the upstream while Redis is down, and caches again once it is back", async () => {
    await redis.stop();
    try {
      const down = await send(a.url, "/slots/wed", { headers: host });
      expect(down.status).toBe(200);
    } finally {
      await redis.restart();
    }
  });

  it("reports an invalidation Redis could not take as pending on /metrics until it is applied", async () => {
    const pending = () => metricValue(a, "apicache_store_pending_invalidations", { store: "redis" });
    const before = (await send(a.adminUrl as string, "/metrics")).body;
    expect(before).toMatch(/^apicache_store_pending_invalidations\{store="redis"\} 0$/m);
    expect(before).toMatch(/^apicache_store_dropped_invalidations_total\{store="redis"\} 0$/m);

    await redis.stop();
    try {
      const write = await send(a.url, "/appointments", { method: "POST", headers: host, body: "{}" });
      expect(write.status).toBe(200);
      await eventually(async () => (await pending()) > 0, 5_000, "the invalidation to be queued");
    } finally {
      await redis.restart();
    }
    await eventually(async () => (await pending()) === 0, 15_000, "the pending invalidation to be applied");
    expect(await metricValue(a, "apicache_store_dropped_invalidations_total", { store: "redis" })).toBe(0);
  });
});
