import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * The cross-pod fill race (ADR 0004, fences): pod A starts a fill, the upstream reads its data, then a
 * write through pod B commits and B invalidates; A's fill answers with the pre-write data. That
 * response may go to A's client (it was asked before the write), but it must not be stored — neither
 * in Redis for every pod, nor in A's own L1 — or reads after the write's response would get old data.
 */
describe("a fill that read the upstream before another pod's write", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let a: Sidecar;
  let b: Sidecar;
  let version = 0;
  /** GETs of these paths wait for the promise before answering (with the version read on arrival). */
  const held = new Map<string, Promise<void>>();

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      if (req.method !== "GET") version++;
      const read = version;
      const answer = () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ url: req.url, version: read }));
      };
      const gate = held.get(req.url ?? "");
      if (req.method === "GET" && gate) void gate.then(answer);
      else answer();
    });
    const spec = {
      // A long L1 age: without the fence, pod A's own copy would serve the old data for 30 s.
      store: { redis: { urlSecretRef: { name: "r", key: "url" } }, memory: { maxEntryAge: "30s" } },
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
  const completedSets = async (sidecar: Sidecar): Promise<number> => {
    const metric = (await sidecar.metrics.registry.getMetricsAsJSON()).find(
      (m) => m.name === "apicache_store_operation_duration_seconds",
    );
    const values = (metric?.values ?? []) as {
      metricName?: string;
      labels: Record<string, unknown>;
      value: number;
    }[];
    return values
      .filter(
        (v) => v.metricName?.endsWith("_count") && v.labels.operation === "set" && v.labels.store === "redis",
      )
      .reduce((sum, v) => sum + v.value, 0);
  };

  it("is not stored, so no pod serves the pre-write data after the write's response", async () => {
    let release = () => {};
    held.set("/slots/fri", new Promise<void>((resolve) => (release = resolve)));
    const setsBefore = await completedSets(a);

    const slowRead = send(a.url, "/slots/fri", { headers: host });
    await eventually(async () => upstream.count("/slots/fri") === 1, 5_000, "the upstream to get the fill");
    const write = await send(b.url, "/appointments", { method: "POST", headers: host, body: "{}" });
    expect(write.status).toBe(200);
    const afterWrite = version;
    release();
    held.delete("/slots/fri");

    const first = await slowRead;
    expect(JSON.parse(first.body).version).toBe(afterWrite - 1); // asked before the write: fine to answer
    await eventually(async () => (await completedSets(a)) > setsBefore, 5_000, "pod A's store attempt");

    for (const pod of [b, a]) {
      const read = await send(pod.url, "/slots/fri", { headers: host });
      expect(JSON.parse(read.body).version).toBe(afterWrite);
    }
    expect(upstream.count("/slots/fri")).toBe(2); // B refetched and stored; A then hit B's entry
  });

  it("is stored as usual when no write came in between", async () => {
    const first = await send(a.url, "/slots/sat", { headers: host });
    expect(first.cacheStatus).toContain("stored");
    const second = await send(b.url, "/slots/sat", { headers: host });
    expect(second.cacheStatus).toMatch(/^apicache; hit/);
  });
});
