import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "./support/harness.js";
import { type Replicas, startReplicas } from "./support/replicas.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

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
});
