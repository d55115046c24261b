import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Learned Vary (ADR 0013) where it could go wrong: an answer that drops Vary on the re-ask, a Vary name
// that is an Object property, a sibling URL naming ever new fields. Real sidecar, real Redis (L1 off).
describe("learned Vary at its edges", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let sidecar: Sidecar;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      const tenant = req.headers["x-tenant"];
      const headers: Record<string, string> = { "content-type": "application/json" };
      // An app that says Vary: X-Tenant on its default-tenant answer and forgets it on a tenant's
      // own answer (Vary incomplete: the case ADR 0013 decision 2 says safety must not depend on).
      if (path.startsWith("/flip/") && tenant === undefined) headers.vary = "X-Tenant";
      // One URL of a route answers with an odd Vary token that names an Object.prototype member.
      if (path === "/proto/bad") headers.vary = "constructor";
      // A route where one URL varies on the tenant and another (buggy or hostile) names a new field in
      // every answer (a request id, a timestamp...): fields no client sends.
      if (path === "/storm/t") headers.vary = "X-Tenant";
      if (path.startsWith("/storm/rand/")) headers.vary = `X-R-${path.slice("/storm/rand/".length)}`;
      res.writeHead(200, headers);
      res.end(JSON.stringify({ url: req.url, tenant: tenant ?? null }));
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: {
        store: {
          redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix: "t/review" },
          memory: { maxEntryAge: "0s" },
        },
        routes: [
          { name: "flip", path: "/flip/**" },
          { name: "proto", path: "/proto/**" },
          { name: "storm", path: "/storm/**" },
        ],
      },
    });
  });

  afterAll(async () => {
    await sidecar?.close({ drainMs: 500 });
    await upstream?.close();
    await redis?.stop();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    send(sidecar.url, path, { headers: { host: "shop.test", ...headers } });

  it("stores the re-asked answer as a variant of the field the re-ask sent (no cross-tenant hit)", async () => {
    const t1 = await get("/flip/a", { "x-tenant": "t1" });
    expect(JSON.parse(t1.body).tenant).toBe("t1");
    // The fill asked without the tenant, saw Vary: X-Tenant, asked again with t1.
    expect(
      upstream.received.filter((r) => r.url === "/flip/a").map((r) => r.headers["x-tenant"] ?? null),
    ).toEqual([null, "t1"]);
    await eventually(
      async () => (await get("/flip/a", { "x-tenant": "t1" })).cacheStatus.startsWith("apicache; hit"),
      5_000,
      "t1 hit",
    );
    // Tenant t2 must never get t1's answer: the fill sent X-Tenant: t1 beyond the key.
    const t2 = await get("/flip/a", { "x-tenant": "t2" });
    expect({ tenant: JSON.parse(t2.body).tenant, cacheStatus: t2.cacheStatus }).toEqual({
      tenant: "t2",
      cacheStatus: expect.not.stringMatching(/^apicache; hit/),
    });
  });

  it("one URL's odd Vary token does not break (or hang) every other URL of its route", async () => {
    // A Vary name such as "constructor" reads as an absent field, never as Object's property.
    const bad = await get("/proto/bad");
    expect(bad.status).toBe(200);
    // With learned Vary, the route now remembers "constructor" and every other URL's fill throws.
    const good = await get("/proto/good");
    // ...and its coalescing flight is never resolved: the next request for the key waits forever.
    const again = await request(`${sidecar.url}/proto/good`, {
      headers: { host: "shop.test" },
      headersTimeout: 3_000,
    }).then(
      async (r) => ({ status: r.statusCode, body: await r.body.text() }),
      (error: Error) => ({ status: 0, body: error.message }),
    );
    expect({ first: good.status, again }).toEqual({
      first: 200,
      again: { status: 200, body: expect.any(String) },
    });
  });

  it("keeps serving each tenant's stored variant while a sibling URL names new fields", async () => {
    const hit = async (tenant: string) =>
      eventually(
        async () => (await get("/storm/t", { "x-tenant": tenant })).cacheStatus.startsWith("apicache; hit"),
        5_000,
        `${tenant} hit`,
      );
    await get("/storm/t", { "x-tenant": "t1" });
    await hit("t1");
    await get("/storm/t", { "x-tenant": "t2" });
    await hit("t2");
    await hit("t1");
    const before = upstream.count("/storm/t");
    const statuses: string[] = [];
    for (let i = 1; i <= 4; i++) {
      await get(`/storm/rand/${i}`);
      // A new tenant's first request: one fill (a vary miss), as expected.
      await get("/storm/t", { "x-tenant": `new-${i}` });
      await hit(`new-${i}`);
      for (const tenant of ["t1", "t2"]) {
        const answer = await get("/storm/t", { "x-tenant": tenant });
        expect(JSON.parse(answer.body).tenant).toBe(tenant);
        statuses.push(answer.cacheStatus.split(";").slice(0, 2).join(";"));
      }
    }
    // t1's and t2's variants are fresh (ttl 300 s) and stored: every one of these should be a hit;
    // the upstream should only have been asked for the four new tenants.
    expect({ upstreamAsked: upstream.count("/storm/t") - before, statuses }).toEqual({
      upstreamAsked: 4,
      statuses: Array(8).fill("apicache; hit"),
    });
  });
});
