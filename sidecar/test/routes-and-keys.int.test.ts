import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { manualClock, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Acceptance items 1 (routes) and 2 (keys), against a real upstream and the real memory store.
describe("routing and keys", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  const clock = manualClock();

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const body = JSON.stringify({
        url: req.url,
        user: req.headers.authorization ?? req.headers.cookie ?? "anonymous",
        forwardedHost: req.headers["x-forwarded-host"] ?? null,
        lang: req.headers["accept-language"] ?? null,
        n: upstream.received.length,
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      clock: clock.now,
      spec: {
        identity: { headers: ["X-User-Id"], cookies: ["session"] },
        routes: [
          {
            name: "slots",
            path: "/api/barbers/:barberId/slots",
            key: { query: ["date"], headers: ["Accept-Language"] },
            tags: ["slots", "barber:{barberId}"],
          },
          { name: "head-only-services", path: "/api/services/special", methods: ["HEAD"] },
          { name: "services", path: "/api/services/**" },
          { name: "profile", path: "/api/profile", key: { scope: "PerUser" } },
        ],
        invalidate: [{ name: "appointments", path: "/api/appointments/**", tags: ["slots"] }],
      },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  describe("routes", () => {
    it("caches a templated route: the second request is a hit and the upstream sees one", async () => {
      const first = await send(sidecar.url, "/api/barbers/1/slots?date=2026-01-01");
      const second = await send(sidecar.url, "/api/barbers/1/slots?date=2026-01-01");
      expect(first.cacheStatus).toMatch(/^apicache; fwd=uri-miss; fwd-status=200; stored$/);
      expect(second.cacheStatus).toMatch(/^apicache; hit; ttl=\d+$/);
      expect(second.body).toBe(first.body);
      expect(upstream.count("/api/barbers/1/slots")).toBe(1);
    });

    it("matches globs and takes the first route in declared order", async () => {
      await send(sidecar.url, "/api/services/special");
      await send(sidecar.url, "/api/services/special");
      // GET skips the HEAD-only route and lands on the glob route, which caches it.
      expect(upstream.count("/api/services/special")).toBe(1);
      const metric = await sidecar.metrics.registry.getSingleMetricAsString("apicache_requests_total");
      expect(metric).toContain('route="services"');
    });

    it("streams unmatched paths through, marked no-route", async () => {
      const a = await send(sidecar.url, "/not/cached");
      const b = await send(sidecar.url, "/not/cached");
      expect(a.cacheStatus).toBe("apicache; fwd=bypass; fwd-status=200; detail=no-route");
      expect(b.cacheStatus).toContain("detail=no-route");
      expect(upstream.count("/not/cached")).toBe(2);
    });

    it("streams unsafe methods through to the upstream with their bodies", async () => {
      const answer = await send(sidecar.url, "/api/services/x", { method: "POST", body: "hello" });
      expect(answer.cacheStatus).toBe("apicache; fwd=method; fwd-status=200; detail=unsafe-method");
      expect(upstream.received.at(-1)).toMatchObject({ method: "POST", body: "hello" });
    });

    it("normalizes the path before matching and keying", async () => {
      await send(sidecar.url, "/api/barbers/2/slots?date=d");
      const again = await send(sidecar.url, "/api//barbers/./x/../2/%73lots?date=d");
      expect(again.cacheStatus).toMatch(/^apicache; hit/);
      expect(upstream.count("/api/barbers/2/slots")).toBe(1);
    });
  });

  describe("keys", () => {
    it("keys on declared query params only, in any order", async () => {
      await send(sidecar.url, "/api/barbers/3/slots?date=d1&utm=a");
      const reordered = await send(sidecar.url, "/api/barbers/3/slots?utm=b&date=d1");
      const otherDate = await send(sidecar.url, "/api/barbers/3/slots?date=d2");
      expect(reordered.cacheStatus).toMatch(/^apicache; hit/);
      expect(otherDate.cacheStatus).toContain("stored");
      // The fill carries only the declared query, so an unkeyed param never reaches a shared entry.
      expect(upstream.received.filter((r) => r.url.startsWith("/api/barbers/3/")).map((r) => r.url)).toEqual([
        "/api/barbers/3/slots?date=d1",
        "/api/barbers/3/slots?date=d2",
      ]);
    });

    it("keys on declared headers and on the host", async () => {
      await send(sidecar.url, "/api/barbers/4/slots", { headers: { "accept-language": "de" } });
      const fr = await send(sidecar.url, "/api/barbers/4/slots", { headers: { "accept-language": "fr" } });
      const otherHost = await send(sidecar.url, "/api/barbers/4/slots", {
        headers: { "accept-language": "de", host: "other.test" },
      });
      expect(JSON.parse(fr.body).lang).toBe("fr");
      expect(fr.cacheStatus).toContain("stored");
      expect(otherHost.cacheStatus).toContain("stored");
      expect(upstream.count("/api/barbers/4/slots")).toBe(3);
    });

    it("never lets a forwarding header poison the shared entry: the forwarded host is keyed", async () => {
      // Loopback is a trusted proxy by default: the app sees the forwarded host, under its own key.
      const attacker = await send(sidecar.url, "/api/barbers/5/slots", {
        headers: { "x-forwarded-host": "evil.test" },
      });
      const victim = await send(sidecar.url, "/api/barbers/5/slots");
      expect(JSON.parse(attacker.body).forwardedHost).toBe("evil.test");
      expect(victim.cacheStatus).toContain("fwd=uri-miss");
      expect(victim.body).not.toContain("evil.test");
    });

    it("never answers nor stores a request with Authorization on a Public route", async () => {
      const anon = await send(sidecar.url, "/api/barbers/6/slots");
      const authed = await send(sidecar.url, "/api/barbers/6/slots", {
        headers: { authorization: "Bearer alice" },
      });
      expect(authed.cacheStatus).toBe("apicache; fwd=bypass; fwd-status=200; detail=identifying-request");
      expect(JSON.parse(authed.body).user).toBe("Bearer alice");
      const anonAgain = await send(sidecar.url, "/api/barbers/6/slots");
      expect(anonAgain.body).toBe(anon.body);
    });

    it("treats only the listed identifying cookies as identifying", async () => {
      const tracking = await send(sidecar.url, "/api/barbers/7/slots", { headers: { cookie: "theme=dark" } });
      const session = await send(sidecar.url, "/api/barbers/7/slots", { headers: { cookie: "session=s1" } });
      expect(tracking.cacheStatus).toContain("stored");
      expect(session.cacheStatus).toContain("detail=identifying-request");
    });

    it("keeps two users' PerUser entries apart and never stores the raw credential in the key", async () => {
      const alice1 = await send(sidecar.url, "/api/profile", { headers: { authorization: "Bearer alice" } });
      const bob1 = await send(sidecar.url, "/api/profile", { headers: { authorization: "Bearer bob" } });
      const alice2 = await send(sidecar.url, "/api/profile", { headers: { authorization: "Bearer alice" } });
      const bob2 = await send(sidecar.url, "/api/profile", { headers: { authorization: "Bearer bob" } });
      expect(JSON.parse(alice1.body).user).toBe("Bearer alice");
      expect(JSON.parse(bob1.body).user).toBe("Bearer bob");
      expect(alice2.body).toBe(alice1.body);
      expect(bob2.body).toBe(bob1.body);
      expect(alice2.cacheStatus).toMatch(/^apicache; hit/);
      expect(upstream.count("/api/profile")).toBe(2);
      const invalidatedKeys = await sidecar.store.get("GET|127.0.0.1|/api/profile||user:Bearer alice");
      expect(invalidatedKeys).toBeUndefined();
    });
  });
});
