import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, manualClock, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Acceptance items 3 (freshness) and 4 (stale-while-revalidate, stale-if-error).
type Reply = (res: ServerResponse, n: number) => void;

describe("freshness and stale answers", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  const clock = manualClock();
  const replies = new Map<string, Reply>();
  let version = 0;

  const json =
    (headers: Record<string, string | string[]> = {}, status = 200): Reply =>
    (res, n) => {
      const body = JSON.stringify({ n, version });
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body);
    };

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const path = (req.url ?? "").split("?")[0] as string;
      const reply = replies.get(path) ?? json();
      reply(res, upstream.count(path));
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      clock: clock.now,
      spec: {
        upstream: { port: 8080, timeout: "300ms" },
        defaults: { ttl: "60s", staleWhileRevalidate: "30s", staleIfError: "10m", negativeTtl: "5s" },
        routes: [
          { name: "upstream-ttl", path: "/upstream/*", ttlFrom: "Upstream" },
          { name: "no-stale", path: "/strict/*", staleWhileRevalidate: "0s", staleIfError: "0s" },
          { name: "policy-ttl", path: "/**" },
        ],
      },
    });
  });

  beforeEach(() => {
    replies.clear();
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  describe("storing", () => {
    it.each([
      ["no-store", { "cache-control": "no-store" }],
      ["private", { "cache-control": "private, max-age=60" }],
      ["set-cookie", { "set-cookie": "sid=1; HttpOnly" }],
      ["vary-star", { vary: "*" }],
    ])("does not store a response with %s", async (reason, headers) => {
      const path = `/not-stored/${reason}`;
      replies.set(path, json(headers));
      const first = await send(sidecar.url, path);
      const second = await send(sidecar.url, path);
      expect(first.cacheStatus).toBe(`apicache; fwd=uri-miss; fwd-status=200; detail=${reason}`);
      expect(second.cacheStatus).toContain(`detail=${reason}`);
      expect(upstream.count(path)).toBe(2);
    });

    it("keeps Set-Cookie for the client that got it, but never stores it", async () => {
      replies.set("/cookie", json({ "set-cookie": ["a=1", "b=2"] }));
      const answer = await send(sidecar.url, "/cookie");
      expect(answer.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    });

    it("honours s-maxage over max-age when the route takes its ttl from the upstream", async () => {
      replies.set("/upstream/a", json({ "cache-control": "max-age=100, s-maxage=10" }));
      await send(sidecar.url, "/upstream/a");
      clock.advance(9_000);
      expect((await send(sidecar.url, "/upstream/a")).cacheStatus).toBe("apicache; hit; ttl=1");
      clock.advance(2_000);
      expect((await send(sidecar.url, "/upstream/a")).cacheStatus).toContain("detail=stale-while-revalidate");
    });

    it("uses the policy ttl whatever max-age says when ttlFrom is Policy", async () => {
      replies.set("/policy/a", json({ "cache-control": "max-age=1" }));
      await send(sidecar.url, "/policy/a");
      clock.advance(30_000);
      expect((await send(sidecar.url, "/policy/a")).cacheStatus).toBe("apicache; hit; ttl=30");
    });

    it("sends Age on hits, counting the upstream's own Age", async () => {
      replies.set("/age", json({ age: "5" }));
      await send(sidecar.url, "/age");
      clock.advance(3_000);
      const hit = await send(sidecar.url, "/age");
      expect(hit.headers.age).toBe("8");
    });

    it("honours Vary: a request with other values of the named fields is not answered from the entry", async () => {
      replies.set("/vary", (res, n) => {
        res.writeHead(200, { vary: "X-Tenant", "content-type": "text/plain" });
        res.end(`answer ${n}`);
      });
      const t1 = await send(sidecar.url, "/vary", { headers: { "x-tenant": "t1" } });
      const t1Again = await send(sidecar.url, "/vary", { headers: { "x-tenant": "t1" } });
      const t2 = await send(sidecar.url, "/vary", { headers: { "x-tenant": "t2" } });
      expect(t1Again.body).toBe(t1.body);
      expect(t1Again.cacheStatus).toMatch(/^apicache; hit/);
      expect(t2.cacheStatus).toBe("apicache; fwd=vary-miss; fwd-status=200; stored");
      expect(t2.body).not.toBe(t1.body);
    });

    it("answers HEAD from a cached GET, without a body", async () => {
      await send(sidecar.url, "/head");
      const head = await send(sidecar.url, "/head", { method: "HEAD" });
      expect(head.cacheStatus).toMatch(/^apicache; hit/);
      expect(head.body).toBe("");
      expect(Number(head.headers["content-length"])).toBeGreaterThan(0);
      expect(upstream.count("/head")).toBe(1);
    });

    it("caches listed error statuses for at most negativeTtl, and not unlisted ones", async () => {
      replies.set("/missing", json({}, 404));
      replies.set("/teapot", json({}, 418));
      await send(sidecar.url, "/missing");
      clock.advance(4_000);
      expect((await send(sidecar.url, "/missing")).cacheStatus).toBe("apicache; hit; ttl=1");
      clock.advance(1_000);
      expect((await send(sidecar.url, "/missing")).cacheStatus).toContain("detail=stale-while-revalidate");
      await send(sidecar.url, "/teapot");
      expect((await send(sidecar.url, "/teapot")).cacheStatus).toContain("detail=status");
    });
  });

  describe("stale-while-revalidate", () => {
    it("serves the stale entry and refreshes it exactly once in the background", async () => {
      version = 1;
      await send(sidecar.url, "/swr");
      clock.advance(61_000);
      // The refresh is held until every stale answer is in, so none of them can see the new version.
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      replies.set("/swr", (res, n) => {
        void held.then(() => json()(res, n));
      });
      version = 2;
      const stale = await Promise.all(Array.from({ length: 20 }, () => send(sidecar.url, "/swr")));
      for (const answer of stale) {
        expect(answer.cacheStatus).toBe("apicache; hit; ttl=-1; detail=stale-while-revalidate");
        expect(JSON.parse(answer.body).version).toBe(1);
      }
      release();
      await eventually(async () => JSON.parse((await send(sidecar.url, "/swr")).body).version === 2);
      expect(upstream.count("/swr")).toBe(2);
    });

    it("refetches (fwd=stale) once the revalidation window has passed", async () => {
      await send(sidecar.url, "/refetch");
      clock.advance(100_000);
      expect((await send(sidecar.url, "/refetch")).cacheStatus).toBe(
        "apicache; fwd=stale; fwd-status=200; stored",
      );
    });

    it("drops the entry when no stale window remains", async () => {
      await send(sidecar.url, "/strict/a");
      clock.advance(61_000);
      expect((await send(sidecar.url, "/strict/a")).cacheStatus).toBe(
        "apicache; fwd=uri-miss; fwd-status=200; stored",
      );
    });
  });

  describe("stale-if-error", () => {
    const expire = async (path: string) => {
      await send(sidecar.url, path);
      clock.advance(100_000); // past ttl + staleWhileRevalidate, within staleIfError
    };

    it("serves stale when the upstream answers 5xx", async () => {
      await expire("/sie/5xx");
      replies.set("/sie/5xx", json({}, 503));
      const answer = await send(sidecar.url, "/sie/5xx");
      expect(answer.status).toBe(200);
      expect(answer.cacheStatus).toBe("apicache; fwd=stale; fwd-status=503; ttl=-40; detail=stale-if-error");
    });

    it("serves stale when the upstream times out", async () => {
      await expire("/sie/timeout");
      replies.set("/sie/timeout", () => {
        /* never answers */
      });
      const answer = await send(sidecar.url, "/sie/timeout");
      expect(answer.status).toBe(200);
      expect(answer.cacheStatus).toBe("apicache; fwd=stale; ttl=-40; detail=stale-if-error");
      expect(
        await sidecar.metrics.registry.getSingleMetricAsString("apicache_upstream_errors_total"),
      ).toContain('reason="timeout"');
    });

    it("serves stale when the upstream resets the connection", async () => {
      await expire("/sie/reset");
      replies.set("/sie/reset", (res) => res.socket?.destroy());
      const answer = await send(sidecar.url, "/sie/reset");
      expect(answer.status).toBe(200);
      expect(answer.cacheStatus).toContain("detail=stale-if-error");
    });

    it("answers 502/504 with a stable code when nothing stale may be served", async () => {
      replies.set("/strict/down", (res) => res.socket?.destroy());
      const answer = await send(sidecar.url, "/strict/down");
      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.body).error).toBe("APICACHE_ERR_UPSTREAM_RESET");
      expect(answer.cacheStatus).toBe("apicache; fwd=uri-miss; detail=upstream-reset");
    });
  });
});

describe("stale-if-error when the upstream refuses connections", () => {
  it("serves the stale entry", async () => {
    const upstream = await startUpstream();
    const clock = manualClock();
    const sidecar = await startTestSidecar({
      upstream: upstream.url,
      clock: clock.now,
      spec: { routes: [{ name: "all", path: "/**", ttl: "1s", staleWhileRevalidate: "0s" }] },
    });
    try {
      const fresh = await send(sidecar.url, "/refused");
      await upstream.close();
      clock.advance(2_000);
      const stale = await send(sidecar.url, "/refused");
      expect(stale.body).toBe(fresh.body);
      expect(stale.cacheStatus).toBe("apicache; fwd=stale; ttl=-1; detail=stale-if-error");
    } finally {
      await sidecar.close();
    }
  });
});
