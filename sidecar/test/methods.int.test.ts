import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Issue #17: one definition of the safe methods (crds/src/http-methods.ts, RFC 9110 §9.2.1). A safe
// method the cache does not store streams through and drops nothing; any other method is unsafe and
// drops the target's entries when it succeeds. CONNECT is not safe, and the sidecar does not tunnel it.
describe("methods", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;

  beforeAll(async () => {
    upstream = await startUpstream();
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      spec: { routes: [{ name: "items", path: "/items/**" }] },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  const isHit = async (path: string) =>
    (await send(sidecar.url, path)).cacheStatus.startsWith("apicache; hit");
  const cached = async (path: string) => {
    await send(sidecar.url, path);
    await eventually(() => isHit(path), 5_000, `a hit on ${path}`);
  };

  it.each(["OPTIONS", "TRACE"])("streams a safe %s through uncached and keeps the entry", async (method) => {
    const path = `/items/${method.toLowerCase()}`;
    await cached(path);
    const answer = await send(sidecar.url, path, { method });
    expect(answer.status).toBe(200);
    expect(answer.cacheStatus).toContain("detail=method-not-cached");
    expect(upstream.count(path, method)).toBe(1);
    expect(await isHit(path)).toBe(true);
  });

  it("drops the target's entries after an unsafe method no rule names (PROPFIND) succeeds", async () => {
    await cached("/items/propfind");
    const answer = await send(sidecar.url, "/items/propfind", { method: "PROPFIND" });
    expect(answer.status).toBe(200);
    expect(await isHit("/items/propfind")).toBe(false);
  });

  it("tunnels no CONNECT: the connection is closed, the upstream sees nothing, no entry is dropped", async () => {
    await cached("/items/connect");
    const before = upstream.received.length;
    const { port } = new URL(sidecar.url);
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
    });
    socket.write("CONNECT /items/connect HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await new Promise((resolve) => socket.once("close", resolve));
    expect(answer).not.toMatch(/^HTTP\/1\.1 2/);
    expect(upstream.received.slice(before).map((r) => r.method)).not.toContain("CONNECT");
    expect(await isHit("/items/connect")).toBe(true);
  });
});
