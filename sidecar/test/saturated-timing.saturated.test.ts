import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { manualClock, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Issue 12, finding 9: with every core busy, coalescing and stale-if-error must still hold, on the
// real Redis store with its default 50 ms command timeout. Only in the `saturated` project
// (`make test-saturated`), whose global setup keeps one busy-loop process per core spinning.
// Before the fix, Redis reads "timed out" while their replies sat unread (timers run before sockets
// are polled; ioredis sends a batch only after the previous one's replies), a fill that ended while a
// request was still reading the store left that request to fetch again, and a read that failed made
// stale-if-error answer 502 with fwd=uri-miss.
let redis: RedisServer;
let upstream: TestUpstream;
let failing = false;

beforeAll(async () => {
  redis = await startRedis();
  upstream = await startUpstream((req, res) => {
    if (failing) {
      res.socket?.destroy();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ url: req.url, n: upstream.count((req.url ?? "").split("?")[0] as string) }));
  });
});

afterAll(async () => {
  await upstream?.close();
  await redis?.stop();
});

const store = { redis: { urlSecretRef: { name: "r", key: "url" } } };

describe("coalescing with every core saturated", () => {
  let sidecar: Sidecar;

  beforeAll(async () => {
    failing = false;
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: { store, routes: [{ name: "cold", path: "/cold/*", ttl: "60s" }] },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
  });

  it("sends one upstream request for 200 concurrent requests on each of several cold keys", async () => {
    for (let round = 0; round < 10; round++) {
      const path = `/cold/${round}`;
      const answers = await Promise.all(Array.from({ length: 200 }, () => send(sidecar.url, path)));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      expect(upstream.count(path), `upstream requests for ${path}`).toBe(1);
    }
  });
});

describe("stale-if-error with every core saturated", () => {
  let sidecar: Sidecar;
  const clock = manualClock(Date.now());

  beforeAll(async () => {
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      clock: clock.now,
      spec: {
        store,
        routes: [
          { name: "short", path: "/short/*", ttl: "1s", staleWhileRevalidate: "0s", staleIfError: "1h" },
        ],
      },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
  });

  it("serves the stale entry when the upstream resets", async () => {
    for (let round = 0; round < 20; round++) {
      failing = false;
      const path = `/short/${round}`;
      const fresh = await send(sidecar.url, path);
      expect(fresh.cacheStatus).toContain("stored");
      clock.advance(2_000); // past its freshness and L1's maxEntryAge, within staleIfError
      failing = true;
      const stale = await send(sidecar.url, path);
      expect(stale.cacheStatus, `round ${round}`).toContain("detail=stale-if-error");
      expect(stale.body).toBe(fresh.body);
    }
  });
});
