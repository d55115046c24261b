import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// The client write timeout (a sweep per server) must not cut a slow but steady reader of a large cached
// body, nor pile listeners on a connection the upgrade proxy hands back.
const BIG = 6 * 1024 * 1024;

describe("the write-timeout sweep at its edges", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === "/big/cached") {
        const body = Buffer.alloc(BIG, 120);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
        res.end(body);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: req.url }));
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      spec: {
        routes: [
          { name: "big", path: "/big/*", ttl: "60s", maxBodyBytes: "16Mi" },
          { name: "things", path: "/things/*", ttl: "60s" },
        ],
      },
      limits: { clientWriteTimeoutMs: 300 },
    });
  });

  afterAll(async () => {
    await sidecar?.close({ drainMs: 500 });
    await upstream?.close();
  });

  it("does not cut a client that keeps reading a large cached body steadily (~3 MB/s)", async () => {
    const first = await send(sidecar.url, "/big/cached");
    expect(first.body.length).toBe(BIG);
    await eventually(
      async () => (await send(sidecar.url, "/big/cached")).cacheStatus.startsWith("apicache; hit"),
      5_000,
      "a hit",
    );
    const { hostname, port } = new URL(sidecar.url);
    const client: Socket = connect(Number(port), hostname);
    client.on("error", () => undefined);
    let received = 0;
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.pause();
    client.write("GET /big/cached HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\n\r\n");
    // A steady, healthy slow reader: up to 64 KiB every 20 ms (about 3 MB/s); never a pause longer
    // than 20 ms, far below the 300 ms write timeout.
    const reader = setInterval(() => {
      let taken = 0;
      while (taken < 64 * 1024) {
        const chunk: Buffer | null = client.read();
        if (chunk === null) break;
        taken += chunk.length;
      }
      received += taken;
    }, 20);
    const started = Date.now();
    await closed;
    clearInterval(reader);
    for (let rest: Buffer | null = client.read(); rest !== null; rest = client.read())
      received += rest.length;
    // The head is a few hundred bytes; the body is BIG.
    const ms = Date.now() - started;
    expect({ gotWholeBody: received > BIG, received, cutWithinMs: ms < 1_000 ? "<1s" : ">=1s" }).toEqual({
      gotWholeBody: true,
      received: expect.any(Number),
      cutWithinMs: ">=1s",
    });
  }, 30_000);

  it("does not pile a close listener on a connection per declined h2c offer", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    const { hostname, port } = new URL(sidecar.url);
    const client = connect(Number(port), hostname);
    client.on("error", () => undefined);
    let text = "";
    client.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    const h2c =
      "GET /things/1 HTTP/1.1\r\nHost: api.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\nContent-Length: 0\r\n\r\n";
    for (let i = 1; i <= 20; i++) {
      client.write(h2c);
      await eventually(() => text.split("HTTP/1.1 200").length - 1 === i, 5_000, `answer ${i}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.destroy();
    process.off("warning", onWarning);
    expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
  });
});
