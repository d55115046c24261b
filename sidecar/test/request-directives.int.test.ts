import type { ServerResponse } from "node:http";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * Issue 12, "also found, smaller": a client's `Cache-Control: no-cache` / `Pragma: no-cache` no longer
 * skips the cache by default (spec.clientNoCache: Ignore; Honor keeps the old behaviour), and
 * uncacheable answers are remembered (hit-for-pass) so that later requests stream straight through
 * instead of queueing behind one leader. Real sidecars on a real redis-server.
 */
describe("a client's own cache directives", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let ignoring: Sidecar;
  let honoring: Sidecar;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=60" });
      res.end(JSON.stringify({ url: req.url }));
    });
    const spec = (clientNoCache: string | undefined, keyPrefix: string) => ({
      store: { redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix } },
      ...(clientNoCache ? { clientNoCache } : {}),
      routes: [{ name: "items", path: "/items/*" }],
    });
    ignoring = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: spec(undefined, "ignore"),
    });
    honoring = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: spec("Honor", "honor"),
    });
  });

  afterAll(async () => {
    await ignoring?.close();
    await honoring?.close();
    await upstream?.close();
    await redis?.stop();
  });

  it.each([
    ["Cache-Control: no-cache", { "cache-control": "no-cache" }],
    ["Cache-Control: max-age=0", { "cache-control": "max-age=0" }],
    ["Pragma: no-cache", { pragma: "no-cache" }],
  ])("are ignored by default: %s is answered from the cache", async (name, headers) => {
    const path = `/items/ignored-${name.replace(/[^a-z0-9]+/gi, "-")}`;
    await send(ignoring.url, path);
    const answer = await send(ignoring.url, path, { headers });
    expect(answer.cacheStatus).toMatch(/^apicache; hit/);
    expect(upstream.count(path)).toBe(1);
  });

  it("send no-cache to the upstream under clientNoCache: Honor", async () => {
    await send(honoring.url, "/items/honored");
    const answer = await send(honoring.url, "/items/honored", { headers: { "cache-control": "no-cache" } });
    expect(answer.cacheStatus).toContain("detail=request-no-cache");
    const pragma = await send(honoring.url, "/items/honored", { headers: { pragma: "no-cache" } });
    expect(pragma.cacheStatus).toContain("detail=request-no-cache");
    expect(upstream.count("/items/honored")).toBe(3);
  });
});

describe("hit-for-pass", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  /** Responses held until `release` (or a deadline): how many upstream requests were in flight at once. */
  const held: ServerResponse[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let holding = false;

  const answer = (res: ServerResponse) => {
    res.writeHead(200, { "content-type": "text/plain", "set-cookie": "session=abc" });
    res.end("personal");
    inFlight--;
  };
  const release = () => {
    for (const res of held.splice(0)) answer(res);
  };

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((_req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (!holding) return answer(res);
      held.push(res);
      // The upstream's own bound, so that a sidecar that queues requests still finishes the test.
      setTimeout(release, 2_000);
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: {
        store: { redis: { urlSecretRef: { name: "r", key: "url" } } },
        routes: [{ name: "profile", path: "/profile" }],
      },
    });
  });

  afterAll(async () => {
    release();
    await sidecar?.close();
    await upstream?.close();
    await redis?.stop();
  });

  it("sends later requests for an uncacheable answer to the upstream at once, side by side", async () => {
    const first = await send(sidecar.url, "/profile");
    expect(first.cacheStatus).toContain("detail=set-cookie");
    holding = true;
    maxInFlight = 0;
    const answers = Promise.all([1, 2, 3].map(() => send(sidecar.url, "/profile")));
    // All three reach the upstream while none is answered: nobody queued behind a leader.
    await eventually(() => held.length === 3, 1_500, "three upstream requests in flight");
    release();
    const results = await answers;
    expect(maxInFlight).toBe(3);
    for (const result of results) {
      expect(result.body).toBe("personal");
      expect(result.headers["set-cookie"]).toBe("session=abc");
    }
  });
});
