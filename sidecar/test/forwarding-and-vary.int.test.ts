import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Issue #12 findings 6, 7 and 8, and forward-only headers: whatever shapes the upstream's answer is in
// the key (or selects a Vary variant); what does not shape it may be forwarded without splitting it.
// Real Redis, L1 off in front of it, so every hit below is a Redis hit.
describe("what fills send, and what keys hold", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  let untrusting: Sidecar;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (path?.startsWith("/secure/") && req.headers["x-forwarded-proto"] !== "https") {
        // A force-HTTPS app (Rails force_ssl, express-sslify, …).
        res.writeHead(301, { location: `https://${req.headers["x-forwarded-host"]}${req.url}` });
        res.end();
        return;
      }
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (path?.startsWith("/tenants/") || path?.startsWith("/learned/varied/")) headers.vary = "X-Tenant";
      if (path === "/shared/varied") headers.vary = "Accept-Language";
      res.writeHead(200, headers);
      res.end(
        JSON.stringify({
          url: req.url,
          proto: req.headers["x-forwarded-proto"] ?? null,
          lang: req.headers["accept-language"] ?? null,
          tenant: req.headers["x-tenant"] ?? null,
          trace: req.headers.traceparent ?? null,
        }),
      );
    });
    const spec = (keyPrefix: string, forwarding?: Record<string, unknown>) => ({
      store: {
        redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix },
        memory: { maxEntryAge: "0s" },
      },
      ...(forwarding ? { forwarding } : {}),
      routes: [
        { name: "shared", path: "/shared/**", key: { negotiation: "Dropped" } },
        { name: "learned", path: "/learned/**" },
        { name: "all", path: "/**" },
      ],
    });
    sidecar = await startTestSidecar({ upstream: upstream.url, redisUrl: redis.url, spec: spec("t/fwd") });
    untrusting = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: spec("t/untrusting", { trustedProxies: ["10.0.0.0/8"] }),
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await untrusting?.close();
    await upstream?.close();
    await redis?.stop();
  });

  const https = { "x-forwarded-proto": "https" };
  const get = (path: string, headers: Record<string, string> = {}, to = sidecar) =>
    send(to.url, path, { headers: { host: "shop.test", ...headers } });
  /** Waits until `path` (with `headers`) hits: the fill's write to Redis ends after its response. */
  const untilHit = (path: string, headers: Record<string, string> = {}) =>
    eventually(async () => (await get(path, headers)).cacheStatus.startsWith("apicache; hit"), 5_000, path);

  it("never caches a force-HTTPS app's redirect for https clients (finding 6)", async () => {
    const statuses: number[] = [];
    const secure = async () => {
      const answer = await get("/secure/a", https);
      statuses.push(answer.status);
      return answer;
    };
    expect(JSON.parse((await secure()).body).proto).toBe("https");
    await eventually(
      async () => (await secure()).cacheStatus.startsWith("apicache; hit"),
      5_000,
      "https hit",
    );
    // A plain-http client gets (and caches) the redirect under its own key...
    const plain = await get("/secure/a");
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe("https://shop.test/secure/a");
    await untilHit("/secure/a");
    // ...which never reaches an https client.
    await eventually(
      async () => (await secure()).cacheStatus.startsWith("apicache; hit"),
      5_000,
      "https hit",
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
  });

  it("keeps a client's X-Forwarded-Proto out of the fill when its peer is not a trusted proxy", async () => {
    const answer = await get("/secure/b", https, untrusting);
    expect(answer.status).toBe(301);
    const fill = upstream.received.filter((r) => r.url === "/secure/b").at(-1);
    expect(fill?.headers["x-forwarded-proto"]).toBe("http");
    expect(fill?.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  it("never serves one Accept-Language's answer to another, Vary or not (finding 7)", async () => {
    const en = await get("/lang", { "accept-language": "en" });
    await untilHit("/lang", { "accept-language": "en" });
    const fr = await get("/lang", { "accept-language": "fr" });
    expect(JSON.parse(en.body).lang).toBe("en");
    expect(fr.cacheStatus).toContain("fwd=uri-miss");
    expect(JSON.parse(fr.body).lang).toBe("fr");
    await untilHit("/lang", { "accept-language": "fr" });
    expect(JSON.parse((await get("/lang", { "accept-language": "en" })).body).lang).toBe("en");
  });

  it("with key.negotiation: Dropped, shares one entry and sends no Accept-Language, unless Vary says", async () => {
    const en = await get("/shared/plain", { "accept-language": "en" });
    expect(JSON.parse(en.body).lang).toBeNull();
    await untilHit("/shared/plain", { "accept-language": "en" });
    const fr = await get("/shared/plain", { "accept-language": "fr" });
    expect(fr.cacheStatus).toMatch(/^apicache; hit/);
    expect(
      upstream.received.filter((r) => r.url === "/shared/plain").map((r) => r.headers["accept-language"]),
    ).not.toContain("en");
    const variedEn = await get("/shared/varied", { "accept-language": "en" });
    expect(JSON.parse(variedEn.body).lang).toBe("en");
    await untilHit("/shared/varied", { "accept-language": "en" });
    const variedFr = await get("/shared/varied", { "accept-language": "fr" });
    expect(JSON.parse(variedFr.body).lang).toBe("fr");
  });

  it("separates tenants when the app answers Vary: X-Tenant, a header outside the key (finding 8)", async () => {
    const t1 = await get("/tenants/data", { "x-tenant": "t1" });
    expect(JSON.parse(t1.body).tenant).toBe("t1");
    await untilHit("/tenants/data", { "x-tenant": "t1" });
    const t2 = await get("/tenants/data", { "x-tenant": "t2" });
    expect(t2.cacheStatus).toContain("fwd=vary-miss");
    expect(JSON.parse(t2.body).tenant).toBe("t2");
    await untilHit("/tenants/data", { "x-tenant": "t2" });
    // Each tenant keeps its own variant: t2's fill did not replace t1's.
    const t1Again = await get("/tenants/data", { "x-tenant": "t1" });
    expect(t1Again.cacheStatus).toMatch(/^apicache; hit/);
    expect(JSON.parse(t1Again.body).tenant).toBe("t1");
    const none = await get("/tenants/data");
    expect(JSON.parse(none.body).tenant).toBeNull();
  });

  it("sends the fields a route varies on from the first fill of each new URL (ADR 0013)", async () => {
    const asked = (url: string) => upstream.received.filter((r) => r.url === url);
    // The route's first varying answer is asked twice: the fill could not know it varies on X-Tenant.
    expect(JSON.parse((await get("/learned/varied/a", { "x-tenant": "t1" })).body).tenant).toBe("t1");
    expect(asked("/learned/varied/a").map((r) => r.headers["x-tenant"] ?? null)).toEqual([null, "t1"]);
    // Every later URL of the route is asked once, with the tenant.
    expect(JSON.parse((await get("/learned/varied/b", { "x-tenant": "t2" })).body).tenant).toBe("t2");
    expect(asked("/learned/varied/b").map((r) => r.headers["x-tenant"])).toEqual(["t2"]);
    await untilHit("/learned/varied/b", { "x-tenant": "t2" });
    const t3 = await get("/learned/varied/b", { "x-tenant": "t3" });
    expect(t3.cacheStatus).toContain("fwd=vary-miss");
    expect(JSON.parse(t3.body).tenant).toBe("t3");
  });

  it("keeps an answer filled with a learned field to that field's value, even when it omits Vary", async () => {
    // The app echoes X-Tenant on /learned/plain without saying Vary: the fill sent the tenant (the route
    // varies on it), so the stored answer is t1's variant and never reaches t2.
    await get("/learned/varied/warm", { "x-tenant": "t0" });
    expect(JSON.parse((await get("/learned/plain", { "x-tenant": "t1" })).body).tenant).toBe("t1");
    await untilHit("/learned/plain", { "x-tenant": "t1" });
    const t2 = await get("/learned/plain", { "x-tenant": "t2" });
    expect(JSON.parse(t2.body).tenant).toBe("t2");
  });

  it("forwards traceparent on a fill without splitting the key (forward-only headers)", async () => {
    const first = await get("/traced", { traceparent: "00-aaaa-01-01" });
    expect(JSON.parse(first.body).trace).toBe("00-aaaa-01-01");
    await untilHit("/traced", { traceparent: "00-aaaa-01-01" });
    // Another trace context finds the same entry: the one the first request's fill stored.
    const other = await get("/traced", { traceparent: "00-bbbb-02-01" });
    expect(other.cacheStatus).toMatch(/^apicache; hit/);
    expect(JSON.parse(other.body).trace).toBe("00-aaaa-01-01");
  });
});
