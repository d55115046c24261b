import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sidecar, startSidecar } from "../src/index.js";

// Item 8 at the HTTP level: Redis trouble never becomes the client's trouble. With Redis stopped
// mid-run, every request still gets a 200 quickly, from the upstream: the pod's L1 invalidation
// channel went down with Redis, so L1 was flushed and is not used until it is back (ADR 0018: a pod
// cannot tell Redis down for everyone from Redis out of its own reach while other pods write to it).
// When Redis returns, the sidecar writes to it, and serves from L1, again by itself.
const COMMAND_TIMEOUT_MS = 50;
const FAST_MS = COMMAND_TIMEOUT_MS + 250;

const policy = `
apiVersion: apicache.io/v1alpha1
kind: CachePolicy
metadata: { name: fail-open, namespace: test }
spec:
  selector: { matchLabels: { app: fail-open } }
  upstream: { port: 8080 }
  store:
    redis:
      urlSecretRef: { name: redis, key: url }
      keyPrefix: test/fail-open
      commandTimeout: ${COMMAND_TIMEOUT_MS}ms
    memory: { maxBytes: 1Mi, maxEntryAge: 1s }
  routes:
    - name: items
      path: /items/:id
      ttl: 5m
      tags: ["item:{id}"]
`;

let redis: RedisServer;
let upstream: Server;
let upstreamCalls = 0;
let sidecar: Sidecar;
/** Requests for /items/herd are held until this many arrived (or 2 s passed), then answered together. */
const HERD = 8;
const herd: (() => void)[] = [];

beforeAll(async () => {
  redis = await startRedis();
  upstream = createServer((request, response) => {
    upstreamCalls++;
    if (request.url === "/items/herd") {
      const answer = () => response.end("item /items/herd");
      response.writeHead(200, { "content-type": "text/plain", "cache-control": "public, max-age=300" });
      herd.push(answer);
      if (herd.length === HERD) for (const release of herd.splice(0)) release();
      else setTimeout(() => herd.splice(herd.indexOf(answer), 1)[0]?.(), 2_000).unref();
      return;
    }
    response.writeHead(200, { "content-type": "text/plain", "cache-control": "public, max-age=300" });
    response.end(`item ${request.url}`);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  sidecar = await startSidecar({
    policy,
    upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    redisUrl: redis.url,
    admin: false,
    warm: false,
    logger: pino({ level: "silent" }),
  });
});

afterAll(async () => {
  await sidecar?.close({ drainMs: 1_000 });
  await new Promise((resolve) => upstream?.close(resolve));
  await redis?.stop();
});

async function get(path: string): Promise<{ status: number; body: string; cacheStatus: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${sidecar.url}${path}`);
  const body = await response.text();
  return {
    status: response.status,
    body,
    cacheStatus: response.headers.get("cache-status") ?? "",
    ms: performance.now() - started,
  };
}

async function redisKeyCount(): Promise<number> {
  const client = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  try {
    await client.connect();
    return await client.dbsize();
  } finally {
    client.disconnect();
  }
}

describe("sidecar fail open (HTTP)", () => {
  it("keeps answering while Redis is down and uses Redis again once it is back", async () => {
    await get("/items/cached");
    expect((await get("/items/cached")).cacheStatus).toMatch(/apicache; hit/);
    expect(await redisKeyCount()).toBeGreaterThan(0);

    await redis.stop();
    await waitFor("the L1 invalidation channel to go down", async () => {
      const gauge = await sidecar.metrics.registry
        .getSingleMetric("apicache_l1_invalidation_channel_up")
        ?.get();
      return gauge?.values.every((sample) => sample.value === 0);
    });

    const callsBefore = upstreamCalls;
    for (let i = 0; i < 20; i++) {
      const cached = await get("/items/cached");
      expect(cached.status).toBe(200);
      expect(cached.body).toBe("item /items/cached");
      expect(cached.cacheStatus).toMatch(/apicache; fwd=uri-miss/);
      expect(cached.ms).toBeLessThanOrEqual(FAST_MS);

      const uncached = await get(`/items/new-${i}`);
      expect(uncached.status).toBe(200);
      expect(uncached.body).toBe(`item /items/new-${i}`);
      expect(uncached.ms).toBeLessThanOrEqual(FAST_MS);
    }
    expect(upstreamCalls - callsBefore).toBe(40);

    // Nor do concurrent requests for one key join one fetch (ADR 0018: nothing would detach it on
    // another pod's write): the upstream sees every one of them while the channel is down.
    const herdBefore = upstreamCalls;
    const answers = await Promise.all(Array.from({ length: HERD }, () => get("/items/herd")));
    expect(answers.map((answer) => answer.status)).toEqual(Array(HERD).fill(200));
    expect(upstreamCalls - herdBefore).toBe(HERD);

    await redis.restart();
    expect(await redisKeyCount()).toBe(0);
    const deadline = performance.now() + 10_000;
    let written = 0;
    for (let i = 0; written === 0; i++) {
      if (performance.now() > deadline)
        throw new Error("the sidecar did not write to Redis within 10 s of its return");
      expect((await get(`/items/after-${i}`)).status).toBe(200);
      written = await redisKeyCount();
      if (written === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(written).toBeGreaterThan(0);
  });
});
