import { parseCachePolicyOrThrow } from "@apicache/crds";
import { describe, expect, it } from "vitest";
import {
  compilePolicy,
  firstRouteForPath,
  matchInvalidations,
  matchRoute,
  routeTags,
} from "./compile-policy.js";
import { pathSegments } from "./path-matcher.js";

const manifest = {
  apiVersion: "apicache.io/v1alpha1",
  kind: "CachePolicy",
  metadata: { name: "booking-api", namespace: "shop" },
  spec: {
    selector: { matchLabels: { app: "booking-api" } },
    upstream: { port: "http" },
    identity: { headers: ["X-User-Id"], cookies: ["session"] },
    routes: [
      {
        name: "slots",
        path: "/api/v2/barbers/:barberId/slots",
        ttl: "60s",
        key: { query: ["date", "after"], headers: ["Accept-Language"] },
        tags: ["slots", "barber:{barberId}"],
      },
      { name: "services-get-only", path: "/api/v2/services/*", methods: ["GET"] },
      { name: "services-any", path: "/api/v2/services/**", ttl: "10m" },
      { name: "catch-all", path: "/api/**" },
    ],
    invalidate: [
      { name: "appointments", path: "/api/v2/appointments/**", tags: ["slots", "dashboard"] },
      { name: "barber", path: "/api/v2/barbers/:barberId", methods: ["PUT"], tags: ["barber:{barberId}"] },
    ],
    warm: [{ path: "/api/v2/services", every: "10m" }],
  },
};
const compiled = compilePolicy(parseCachePolicyOrThrow(manifest), "text");
const match = (method: string, path: string) => matchRoute(compiled, method, pathSegments(path));

describe("a compiled policy", () => {
  it("carries effective settings in ms and bytes", () => {
    expect(compiled.routes[0]?.rules).toMatchObject({
      ttlMs: 60_000,
      staleWhileRevalidateMs: 30_000,
      staleIfErrorMs: 600_000,
      maxBodyBytes: 1024 * 1024,
      negativeTtlMs: 10_000,
      scope: "Public",
    });
    expect(compiled.label).toBe("shop/booking-api");
    expect(compiled.store.keyPrefix).toBe("shop/booking-api");
    expect(compiled.upstreamTimeoutMs).toBe(30_000);
    expect(compiled.warm).toEqual([{ path: "/api/v2/services", everyMs: 600_000 }]);
  });

  it("sorts key parts and lowercases header names", () => {
    expect(compiled.routes[0]?.keyQuery).toEqual(["after", "date"]);
    // Accept and Accept-Language are in every key: every fill sends them.
    expect(compiled.routes[0]?.keyHeaders).toEqual(["accept", "accept-language"]);
    expect(compiled.routes[1]?.keyHeaders).toEqual(["accept", "accept-language"]);
    const dropped = compilePolicy(
      parseCachePolicyOrThrow({
        ...manifest,
        spec: {
          ...manifest.spec,
          routes: [{ name: "r", path: "/r", key: { negotiation: "Dropped", headers: ["X-Tenant"] } }],
        },
      }),
      "text",
    );
    expect(dropped.routes[0]?.keyHeaders).toEqual(["x-tenant"]);
    expect(compiled.identity).toEqual({ headers: ["authorization", "x-user-id"], cookies: ["session"] });
  });

  it("hashes the policy text", () => {
    expect(compiled.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("route matching", () => {
  it.each([
    ["GET", "/api/v2/barbers/42/slots", "slots", { barberId: "42" }],
    ["HEAD", "/api/v2/barbers/42/slots", "slots", { barberId: "42" }],
    ["GET", "/api/v2/services/7", "services-get-only", {}],
    ["HEAD", "/api/v2/services/7", "services-any", {}],
    ["GET", "/api/v2/services", "services-any", {}],
    ["GET", "/api/v2/services/7/reviews", "services-any", {}],
    ["GET", "/api/v2/barbers/42", "catch-all", {}],
    ["GET", "/api", "catch-all", {}],
  ])("%s %s takes the first matching route, %s", (method, path, route, params) => {
    expect(match(method, path)).toMatchObject({ route: { name: route }, params });
  });

  it.each([
    ["GET", "/other"],
    ["GET", "/"],
    ["POST", "/api/v2/services/7"],
  ])("%s %s matches no route", (method, path) => {
    expect(match(method, path)).toBeUndefined();
  });

  it("does not let a param capture an empty segment", () => {
    expect(match("GET", "/api/v2/barbers//slots")?.route.name).toBe("catch-all");
  });

  it("fills tag templates from the captured params", () => {
    const found = match("GET", "/api/v2/barbers/42/slots");
    expect(found && routeTags(found)).toEqual(["slots", "barber:42"]);
  });

  it("tells a path no route knows from a method a route does not cache", () => {
    expect(firstRouteForPath(compiled, pathSegments("/api/v2/services/7"))).toBeDefined();
    expect(firstRouteForPath(compiled, pathSegments("/nope"))).toBeUndefined();
  });
});

describe("invalidation matching", () => {
  it("returns every matching rule with its tags filled", () => {
    expect(matchInvalidations(compiled, "PUT", "/api/v2/barbers/42")).toEqual([
      { rule: "barber", tags: ["barber:42"] },
    ]);
    expect(matchInvalidations(compiled, "POST", "/api/v2/appointments")).toEqual([
      { rule: "appointments", tags: ["slots", "dashboard"] },
    ]);
  });

  it("ignores methods a rule does not list", () => {
    expect(matchInvalidations(compiled, "DELETE", "/api/v2/barbers/42")).toEqual([]);
  });

  it("matches leniently by default: letter case and a trailing slash do not matter", () => {
    for (const path of ["/api/v2/barbers/42/", "/API/V2/Barbers/42", "/Api/v2/barbers/42/"]) {
      expect(matchInvalidations(compiled, "PUT", path)).toEqual([{ rule: "barber", tags: ["barber:42"] }]);
    }
  });

  it("matches exactly under invalidationMatching: Strict", () => {
    const strict = compilePolicy(
      parseCachePolicyOrThrow({ ...manifest, spec: { ...manifest.spec, invalidationMatching: "Strict" } }),
      "text",
    );
    expect(matchInvalidations(strict, "PUT", "/api/v2/barbers/42")).toHaveLength(1);
    expect(matchInvalidations(strict, "PUT", "/api/v2/barbers/42/")).toEqual([]);
    expect(matchInvalidations(strict, "PUT", "/API/v2/barbers/42")).toEqual([]);
  });

  it("fills tags with parameters in one spelling, whether the path encodes them or not", () => {
    const tags = (path: string) => matchInvalidations(compiled, "PUT", path)[0]?.tags;
    expect(tags("/api/v2/barbers/jos%C3%A9")).toEqual(["barber:jos%C3%A9"]);
    expect(tags("/api/v2/barbers/a:b")).toEqual(tags("/api/v2/barbers/a%3Ab"));
  });

  describe("with body fields", () => {
    const withBody = compilePolicy(
      parseCachePolicyOrThrow({
        ...manifest,
        spec: {
          ...manifest.spec,
          invalidate: [
            {
              name: "booked",
              path: "/api/v2/shops/:shopId/appointments",
              methods: ["POST"],
              bodyFields: ["barberId"],
              tags: ["barber:{barberId}", "shop:{shopId}"],
              fallbackTags: ["slots", "shop:{shopId}"],
            },
            { name: "audit", path: "/api/v2/shops/:shopId/**", tags: ["audit"] },
          ],
        },
      }),
      "text",
    );

    it("fills tags from the body's fields and the path's parameters", () => {
      expect(
        matchInvalidations(withBody, "POST", "/api/v2/shops/7/appointments", () => ({ barberId: 42 })),
      ).toEqual([
        { rule: "booked", tags: ["barber:42", "shop:7"] },
        { rule: "audit", tags: ["audit"] },
      ]);
    });

    it("encodes body values as path parameters are encoded", () => {
      const fromBody = (barberId: string) =>
        matchInvalidations(withBody, "POST", "/api/v2/shops/7/appointments", () => ({ barberId }))[0]?.tags;
      const route = compilePolicy(parseCachePolicyOrThrow(manifest), "text");
      const read = matchRoute(route, "GET", pathSegments("/api/v2/barbers/jos%C3%A9/slots"));
      expect(fromBody("josé")).toEqual(["barber:jos%C3%A9", "shop:7"]);
      expect(read && routeTags(read)).toContain("barber:jos%C3%A9");
      expect(fromBody("a/b")?.[0]).toBe("barber:a%2Fb");
      expect(fromBody("\ud800")?.[0]).toBe("barber:%EF%BF%BD");
    });

    it("uses the fallback tags when the body does not give the field", () => {
      expect(matchInvalidations(withBody, "POST", "/api/v2/shops/7/appointments", () => ({}))).toEqual([
        { rule: "booked", tags: ["slots", "shop:7"], fallback: true },
        { rule: "audit", tags: ["audit"] },
      ]);
      expect(matchInvalidations(withBody, "POST", "/api/v2/shops/7/appointments")[0]?.fallback).toBe(true);
    });

    it("reads the body only when a rule with body fields matches", () => {
      let reads = 0;
      const body = () => {
        reads++;
        return { barberId: "1" };
      };
      matchInvalidations(withBody, "PUT", "/api/v2/shops/7/hours", body);
      expect(reads).toBe(0);
      matchInvalidations(withBody, "POST", "/api/v2/shops/7/appointments", body);
      expect(reads).toBe(1);
    });
  });
});
