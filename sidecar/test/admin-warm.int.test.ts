import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@apicache/testkit/ports";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyText, send } from "./support/harness.js";
import { runSidecar, type SidecarProcess } from "./support/sidecar-process.js";
import { defaultHandler, startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Warming through the real binary and real Redis: keyed by a configured host, never a client's, and
// bounded in size and in concurrency.
describe("warming (the apicache-sidecar binary)", () => {
  let dir: string;
  let upstream: TestUpstream;
  let redis: RedisServer;
  let sidecar: SidecarProcess;
  let proxy: string;
  let admin: string;
  let inFlight = 0;
  let maxInFlight = 0;
  const TOKEN = "warm-token";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "apicache-warm-"));
    [upstream, redis] = await Promise.all([startUpstream(), startRedis()]);
    // /slow/* answers after 30 ms, so concurrent fills overlap and can be counted.
    upstream.handle = (req, res, body) => {
      if (!req.url?.startsWith("/slow/")) return defaultHandler(req, res, body);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        defaultHandler(req, res, body);
      }, 30);
    };
    const policy = join(dir, "policy.yaml");
    await writeFile(
      policy,
      policyText({
        routes: [
          { name: "items", path: "/api/items/**" },
          { name: "slow", path: "/slow/**" },
        ],
        warm: [{ path: "/api/items/configured", every: "1h", host: "api.shop.svc" }],
      }),
    );
    await writeFile(join(dir, "token"), TOKEN);
    const [port, adminPort] = [await freePort(), await freePort()];
    sidecar = runSidecar([
      ...["--policy", policy, "--upstream", upstream.url, "--redis", redis.url],
      ...["--listen", `127.0.0.1:${port}`, "--admin", `0.0.0.0:${adminPort}`],
      ...["--admin-token-file", join(dir, "token")],
    ]);
    await sidecar.listening();
    proxy = `http://127.0.0.1:${port}`;
    admin = `http://127.0.0.1:${adminPort}`;
  });

  afterAll(async () => {
    await sidecar?.kill();
    await Promise.all([upstream?.close(), redis?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const warm = (body: unknown) =>
    send(admin, "/warm", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const get = (path: string, host: string) => send(proxy, path, { headers: { host } });

  it("stores a spec.warm entry under its configured host", async () => {
    await waitFor(
      "the startup warm of /api/items/configured",
      () => upstream.count("/api/items/configured") === 1,
    );
    await waitFor("the warmed entry", async () =>
      (await get("/api/items/configured", "api.shop.svc")).cacheStatus.startsWith("apicache; hit"),
    );
    expect(upstream.count("/api/items/configured")).toBe(1);
  });

  it("keys POST /warm fills with the upstream's host or the given one, never the last client's Host", async () => {
    // A client with an unusual Host goes first; the old warmer borrowed it for every later fill.
    expect((await get("/api/items/seen", "evil.example")).cacheStatus).toContain("stored");
    const upstreamHost = new URL(upstream.url).host;

    expect((await warm({ paths: ["/api/items/default"] })).status).toBe(200);
    expect((await get("/api/items/default", upstreamHost)).cacheStatus).toMatch(/^apicache; hit/);
    expect((await get("/api/items/plain", "evil.example")).cacheStatus).toContain("stored");

    expect((await warm({ paths: ["/api/items/named"], host: "api.shop.svc" })).status).toBe(200);
    expect((await get("/api/items/named", "api.shop.svc")).cacheStatus).toMatch(/^apicache; hit/);
    expect((await get("/api/items/named", "evil.example")).cacheStatus).not.toMatch(/^apicache; hit/);
    expect(upstream.count("/api/items/named")).toBe(2);
  });

  it("refuses more than 100 paths in one call, fetching none of them", async () => {
    const paths = Array.from({ length: 101 }, (_, i) => `/api/items/many-${i}`);
    const answer = await warm({ paths });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "APICACHE_ERR_WARM_TOO_MANY_PATHS" });
    expect(upstream.received.filter((r) => r.url.startsWith("/api/items/many-"))).toEqual([]);
  });

  it("fetches a long list a few paths at a time, not all at once", async () => {
    maxInFlight = 0;
    const paths = Array.from({ length: 40 }, (_, i) => `/slow/${i}`);
    const answer = await warm({ paths });
    expect(answer.status).toBe(200);
    const { results } = JSON.parse(answer.body) as { results: { ok: boolean }[] };
    expect(results.filter((r) => r.ok)).toHaveLength(40);
    expect(upstream.received.filter((r) => r.url.startsWith("/slow/"))).toHaveLength(40);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(4);
  });

  it("rejects a host that is not host[:port]", async () => {
    expect((await warm({ paths: ["/api/items/x"], host: "a b/c" })).status).toBe(400);
  });
});
