import type { ServerResponse } from "node:http";
import { connect } from "node:net";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, metricValue, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Issue 12, finding 2: one upstream pool of 128 connections and no limit on the wait for one, so 128
// open event streams stalled every miss and every write. Now fills, writes and streamed-through
// traffic have separate lanes (proxy/upstream.ts), a full lane's queue has a deadline (503
// APICACHE_ERR_UPSTREAM_BUSY, counted), and a client that stops reading is cut off.
const open: ServerResponse[] = [];
let redis: RedisServer;
let upstream: TestUpstream;
const agent = new Agent({ connections: null, keepAliveTimeout: 60_000 });

beforeAll(async () => {
  redis = await startRedis();
  upstream = await startUpstream((req, res) => {
    const path = (req.url ?? "").split("?")[0] as string;
    if (path.startsWith("/events/") || path.startsWith("/feed/")) {
      // A server-sent event stream: one event, then it stays open.
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      res.write("data: hello\n\n");
      open.push(res);
      return;
    }
    if (path === "/big") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {
          // fill the socket until it pushes back
        }
      };
      res.on("drain", pump);
      pump();
      open.push(res);
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ path, method: req.method }));
  });
});

afterAll(async () => {
  for (const res of open) res.destroy();
  await agent.close();
  await upstream?.close();
  await redis?.stop();
});

const store = { redis: { urlSecretRef: { name: "r", key: "url" } } };
const routes = [
  { name: "things", path: "/things/*", ttl: "60s" },
  { name: "feed", path: "/feed/*", ttl: "60s" },
];

/** Opens an event stream through the sidecar and resolves once its first event arrived. */
async function openStream(base: string, path: string): Promise<{ status: number; close(): void }> {
  const response = await request(`${base}${path}`, { dispatcher: agent });
  if (response.statusCode !== 200) {
    await response.body.text();
    return { status: response.statusCode, close: () => undefined };
  }
  await new Promise<void>((resolve) => response.body.once("data", () => resolve()));
  return { status: 200, close: () => response.body.destroy() };
}

async function within<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe("128 open event streams through the sidecar", () => {
  let sidecar: Sidecar;
  const streams: { close(): void }[] = [];

  beforeAll(async () => {
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: { store, routes },
    });
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await sidecar?.close({ drainMs: 1_000 });
  });

  it("do not stall a cache miss or a write", async () => {
    // Half bypassed (no route), half on a cached route whose answers cannot be stored.
    const opened = await Promise.all(
      Array.from({ length: 128 }, (_, i) => openStream(sidecar.url, i % 2 ? `/events/${i}` : `/feed/${i}`)),
    );
    streams.push(...opened);
    expect(opened.filter((s) => s.status === 200)).toHaveLength(128);
    const miss = await within(5_000, request(`${sidecar.url}/things/1`, { dispatcher: agent }), "a miss");
    expect(miss.statusCode).toBe(200);
    expect(String(miss.headers["cache-status"])).toContain("fwd=uri-miss");
    await miss.body.text();
    const write = await within(
      5_000,
      request(`${sidecar.url}/things/1`, { method: "POST", body: "{}", dispatcher: agent }),
      "a write",
    );
    expect(write.statusCode).toBe(200);
    await write.body.text();
  });
});

describe("a full lane", () => {
  let sidecar: Sidecar;
  const streams: { close(): void }[] = [];

  beforeAll(async () => {
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: { store, routes },
      upstreamConnections: { pass: 2 },
      upstreamQueueTimeoutMs: 300,
    });
    streams.push(await openStream(sidecar.url, "/events/a"), await openStream(sidecar.url, "/events/b"));
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await sidecar?.close({ drainMs: 1_000 });
  });

  it("answers a request that waited past the queue deadline 503 with a stable code, and counts it", async () => {
    const started = performance.now();
    const response = await request(`${sidecar.url}/events/c`, { dispatcher: agent });
    const body = (await response.body.json()) as { error: string };
    expect(response.statusCode).toBe(503);
    expect(body.error).toBe("APICACHE_ERR_UPSTREAM_BUSY");
    expect(String(response.headers["cache-status"])).toContain("fwd=bypass");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(await metricValue(sidecar, "apicache_upstream_errors_total", { reason: "busy" })).toBeGreaterThan(
      0,
    );
  });

  it("answers an unstorable answer on a cached route 503 rather than let it hold a fill connection", async () => {
    const response = await request(`${sidecar.url}/feed/x`, { dispatcher: agent });
    expect(response.statusCode).toBe(503);
    expect(String(response.headers["cache-status"])).toContain("detail=upstream-busy");
    expect(((await response.body.json()) as { error: string }).error).toBe("APICACHE_ERR_UPSTREAM_BUSY");
  });

  it("still serves misses and writes, which have lanes of their own", async () => {
    const miss = await request(`${sidecar.url}/things/2`, { dispatcher: agent });
    expect(miss.statusCode).toBe(200);
    await miss.body.text();
    const write = await request(`${sidecar.url}/things/2`, { method: "PUT", body: "{}", dispatcher: agent });
    expect(write.statusCode).toBe(200);
    await write.body.text();
  });
});

describe("a client that stops reading", () => {
  it("is cut off after the write timeout, which frees the upstream connection", async () => {
    const sidecar = await startTestSidecar({
      upstream: upstream.url,
      spec: { routes },
      limits: { clientWriteTimeoutMs: 300 },
    });
    try {
      const { hostname, port } = new URL(sidecar.url);
      const client = connect(Number(port), hostname);
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.on("error", () => undefined);
      client.write("GET /big HTTP/1.1\r\nHost: api.example\r\n\r\n");
      client.pause(); // never reads: the sidecar's writes back up
      await eventually(() => upstream.count("/big") >= 1, 10_000, "the upstream to start answering");
      const upstreamSide = open.at(-1) as ServerResponse;
      await eventually(() => upstreamSide.destroyed, 15_000, "the upstream response to be cut");
      client.resume(); // what was sent before the cut drains, then the connection ends
      await within(15_000, closed, "the client connection to close");
    } finally {
      await sidecar.close({ drainMs: 1_000 });
    }
  });
});
