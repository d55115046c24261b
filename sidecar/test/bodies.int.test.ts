import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Acceptance item 10: bodies stream (never fully buffered when uncacheable or over maxBodyBytes),
// write bodies stream to the upstream, keep-alive pooling; and truncated upstream bodies are not stored.
describe("bodies", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  const pending: { finish?: (() => void) | undefined } = {};
  const MiB = 1024 * 1024;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === "/big" || req.url === "/cookie-stream") {
        const cookie = req.url === "/cookie-stream" ? { "set-cookie": "a=1" } : {};
        res.writeHead(200, { "content-type": "application/octet-stream", ...cookie });
        // 2 MiB now, the rest only once the test has seen them arrive at the client.
        res.write(Buffer.alloc(2 * MiB, 1));
        pending.finish = () => res.end(Buffer.alloc(1024, 2));
        return;
      }
      if (req.url === "/truncated") {
        res.writeHead(200, { "content-length": "1000" });
        res.write(Buffer.alloc(500));
        setImmediate(() => res.socket?.destroy());
        return;
      }
      res.writeHead(200);
      res.end("small");
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      spec: { defaults: { maxBodyBytes: "1Mi" }, routes: [{ name: "all", path: "/**" }] },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  async function receivesBeforeTheUpstreamEnds(
    path: string,
  ): Promise<{ cacheStatus: string; total: number }> {
    pending.finish = undefined;
    const response = await request(`${sidecar.url}${path}`);
    let received = 0;
    for await (const chunk of response.body) {
      received += (chunk as Buffer).length;
      // Over 1.5 MiB arrived while the upstream has not finished: the sidecar is streaming, not buffering.
      const end = pending.finish as (() => void) | undefined;
      if (received >= 1.5 * MiB && end) {
        pending.finish = undefined;
        end();
      }
    }
    return { cacheStatus: String(response.headers["cache-status"]), total: received };
  }

  it("streams a response over maxBodyBytes without buffering it, and does not store it", async () => {
    const answer = await receivesBeforeTheUpstreamEnds("/big");
    expect(answer.total).toBe(2 * MiB + 1024);
    expect(answer.cacheStatus).toBe("apicache; fwd=uri-miss; fwd-status=200; detail=body-too-large");
    await receivesBeforeTheUpstreamEnds("/big");
    expect(upstream.count("/big")).toBe(2);
  });

  it("streams an uncacheable response straight through", async () => {
    const answer = await receivesBeforeTheUpstreamEnds("/cookie-stream");
    expect(answer.cacheStatus).toContain("detail=set-cookie");
    expect(answer.total).toBe(2 * MiB + 1024);
  });

  it("never stores a truncated upstream body, and closes the client's connection or answers 502", async () => {
    const first = await send(sidecar.url, "/truncated").catch((error: Error) => error);
    if (!(first instanceof Error)) expect(first.status).toBe(502);
    await send(sidecar.url, "/truncated").catch(() => undefined);
    expect(upstream.count("/truncated")).toBe(2);
  });

  it("reuses keep-alive connections to the upstream", async () => {
    const before = upstream.connections;
    for (let i = 0; i < 30; i++) await send(sidecar.url, `/small-${i}`);
    expect(upstream.connections - before).toBeLessThanOrEqual(2);
  });
});

describe("write bodies", () => {
  let server: Server;
  let sidecar: Sidecar;
  let firstChunkAt: (() => void) | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        firstChunkAt?.();
      });
      req.on("end", () => res.end(String(size)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sidecar = await startTestSidecar({ upstream: url, spec: { routes: [] } });
  });

  afterAll(async () => {
    await sidecar?.close();
    server.closeAllConnections();
    server.close();
  });

  it("streams a request body to the upstream as it arrives", async () => {
    const body = new PassThrough();
    let upstreamSawData = false;
    firstChunkAt = () => {
      upstreamSawData = true;
    };
    const answer = request(`${sidecar.url}/upload`, { method: "POST", body });
    body.write(Buffer.alloc(64 * 1024, 1));
    // The upstream sees the first chunk while the client has not finished sending.
    await eventually(() => upstreamSawData, 5_000, "the first chunk at the upstream");
    body.end(Buffer.alloc(64 * 1024, 2));
    const response = await answer;
    expect(await response.body.text()).toBe(String(128 * 1024));
  });
});
