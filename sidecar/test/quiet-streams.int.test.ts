import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Item 3 of the review: spec.upstream.timeout bounds the wait for response headers only. A streamed
// response (long poll, server-sent events) may pause longer than that between chunks; a fill that
// buffers a body for storage is still bounded per chunk gap, so its waiters are not held forever.
const TIMEOUT_MS = 300;
const PAUSE_MS = TIMEOUT_MS * 3;

describe("an upstream that pauses mid-body for longer than spec.upstream.timeout", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  const stalled: ServerResponse[] = [];

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === "/stuck") {
        // Headers and a first chunk, then nothing: a fill that would hang forever.
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("partial");
        stalled.push(res);
        return;
      }
      const headers: Record<string, string> = { "content-type": "text/event-stream" };
      if (req.url === "/events") headers["cache-control"] = "no-store";
      res.writeHead(200, headers);
      res.flushHeaders();
      setTimeout(() => res.write("data: first\n\n"), PAUSE_MS);
      setTimeout(() => res.end("data: second\n\n"), PAUSE_MS * 2);
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      spec: {
        upstream: { port: 8080, timeout: `${TIMEOUT_MS}ms` },
        routes: [
          { name: "events", path: "/events", ttl: "60s" },
          { name: "stuck", path: "/stuck", ttl: "60s" },
        ],
      },
    });
  });

  afterAll(async () => {
    for (const res of stalled) res.destroy();
    await sidecar?.close();
    await upstream?.close();
  });

  it("streams the whole body of a bypassed response (no route)", async () => {
    const answer = await send(sidecar.url, "/stream");
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("data: first\n\ndata: second\n\n");
  });

  it("streams the whole body of a write's response", async () => {
    const answer = await send(sidecar.url, "/stream", { method: "POST", body: "{}" });
    expect(answer.body).toBe("data: first\n\ndata: second\n\n");
  });

  it("streams the whole body of an uncacheable response on a cached route", async () => {
    const answer = await send(sidecar.url, "/events");
    expect(answer.cacheStatus).toContain("detail=no-store");
    expect(answer.body).toBe("data: first\n\ndata: second\n\n");
  });

  it("gives up on a fill whose body stalls, answering the leader and a waiter 504", async () => {
    const [leader, waiter] = await Promise.all([
      send(sidecar.url, "/stuck"),
      eventually(() => upstream.count("/stuck") === 1, 5_000, "the fill to start").then(() =>
        send(sidecar.url, "/stuck"),
      ),
    ]);
    expect(leader.status).toBe(504);
    expect(leader.cacheStatus).toContain("detail=upstream-timeout");
    expect(waiter.status).toBe(504);
    expect(upstream.count("/stuck")).toBeLessThanOrEqual(2);
  });
});
