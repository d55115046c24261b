import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Acceptance item 13: bad input never crashes the sidecar.
describe("bad input", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === "/slow-big") {
        res.writeHead(200);
        const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024)), 5);
        res.on("close", () => clearInterval(timer));
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`ok ${req.url?.length}`);
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, maxHeaderBytes: 128 * 1024 },
      spec: { routes: [{ name: "all", path: "/**", key: { query: ["p9999"] } }] },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  /** Sends raw bytes and returns everything the sidecar wrote back before closing. */
  function raw(bytes: string | Buffer, options: { keepOpenMs?: number } = {}): Promise<string> {
    const { port } = new URL(sidecar.url);
    return new Promise((resolve) => {
      const socket = connect(Number(port), "127.0.0.1");
      let out = "";
      socket.on("data", (chunk) => {
        out += chunk.toString("latin1");
      });
      socket.on("close", () => resolve(out));
      socket.on("error", () => resolve(out));
      socket.write(bytes);
      if (options.keepOpenMs === undefined) setTimeout(() => socket.end(), 200);
    });
  }

  const stillServing = async () => expect((await send(sidecar.url, "/alive")).status).toBe(200);

  it.each([
    ["a malformed request line", "GARBAGE\r\n\r\n"],
    ["a header without a colon", "GET / HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n"],
    ["a bad Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"],
    [
      "both Content-Length and Transfer-Encoding",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
    ["a NUL in the path", "GET /a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n"],
  ])("answers 400 to %s", async (_name, request) => {
    expect(await raw(request)).toMatch(/^HTTP\/1\.1 400 /);
    await stillServing();
  });

  it("answers 431 to headers over maxHeaderSize", async () => {
    const answer = await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(200 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    await stillServing();
  });

  it("handles 10,000 query parameters", async () => {
    const query = Array.from({ length: 10_000 }, (_, i) => `p${i}=${i % 10}`).join("&");
    const first = await send(sidecar.url, `/many?${query}`);
    const second = await send(sidecar.url, `/many?p9999=9&other=x`);
    expect(first.status).toBe(200);
    expect(second.cacheStatus).toMatch(/^apicache; hit/);
  });

  it("drops a slowloris client whose headers never finish (408)", async () => {
    const answer = await raw("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", { keepOpenMs: 5_000 });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    await stillServing();
  });

  it("drops a client whose body trickles in past the request timeout", async () => {
    const answer = await raw("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc", {
      keepOpenMs: 5_000,
    });
    expect(answer === "" || /^HTTP\/1\.1 (408|502) /.test(answer)).toBe(true);
    await stillServing();
  });

  it("survives a client that aborts in the middle of a streamed response", async () => {
    const { port } = new URL(sidecar.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), "127.0.0.1");
      socket.write("GET /slow-big HTTP/1.1\r\nHost: x\r\n\r\n");
      socket.once("data", () => {
        socket.destroy();
        resolve();
      });
    });
    await stillServing();
  });
});
