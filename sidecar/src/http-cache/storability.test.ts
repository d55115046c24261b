import { describe, expect, it } from "vitest";
import type { Headers } from "./headers.js";
import { type CacheRules, storability } from "./storability.js";

const rules: CacheRules = {
  ttlMs: 60_000,
  staleWhileRevalidateMs: 30_000,
  staleIfErrorMs: 600_000,
  maxBodyBytes: 1024,
  ttlFrom: "Policy",
  cacheableStatuses: new Set([200, 203, 204, 300, 301, 308, 404, 410]),
  negativeTtlMs: 10_000,
  scope: "Public",
};
const NOW = Date.parse("2026-01-01T00:00:00Z");

function decide(
  headers: Headers,
  options: { status?: number; rules?: Partial<CacheRules>; auth?: boolean } = {},
) {
  return storability({
    rules: { ...rules, ...options.rules },
    status: options.status ?? 200,
    headers,
    requestAuthorized: options.auth ?? false,
    now: NOW,
  });
}

describe("storability for a shared cache", () => {
  describe("refuses to store", () => {
    it.each([
      ["no-store", { "cache-control": "no-store" }, "no-store"],
      ["private", { "cache-control": "private, max-age=60" }, "private"],
      ["no-cache", { "cache-control": "no-cache" }, "no-cache"],
      ["a Set-Cookie", { "set-cookie": ["a=1"] }, "set-cookie"],
      ["Vary: *", { vary: "Accept, *" }, "vary-star"],
      ["a declared body over maxBodyBytes", { "content-length": "2048" }, "body-too-large"],
    ] as const)("a response with %s", (_name, headers, reason) => {
      expect(decide(headers)).toEqual({ storable: false, reason });
    });

    it.each([201, 206, 302, 500, 503])("status %i, which the policy does not list", (status) => {
      expect(decide({}, { status })).toEqual({ storable: false, reason: "status" });
    });

    it.each([206, 304])("status %i, even when the policy lists it", (status) => {
      const listed = { cacheableStatuses: new Set([200, status]) };
      expect(decide({}, { status, rules: listed })).toEqual({ storable: false, reason: "status" });
    });

    it("an answer to an authorized request on a Public route, unless the response allows it", () => {
      expect(decide({}, { auth: true })).toEqual({ storable: false, reason: "authorization" });
      expect(decide({ "cache-control": "public" }, { auth: true }).storable).toBe(true);
      expect(decide({ "cache-control": "s-maxage=5" }, { auth: true }).storable).toBe(true);
    });

    it("a response that is already stale on arrival", () => {
      expect(
        decide({ "cache-control": "max-age=10", age: "10" }, { rules: { ttlFrom: "Upstream" } }),
      ).toEqual({
        storable: false,
        reason: "zero-ttl",
      });
    });
  });

  describe("when ttlFrom is Policy", () => {
    it("uses the policy's ttl and windows whatever max-age says", () => {
      expect(decide({ "cache-control": "max-age=5" })).toMatchObject({
        storable: true,
        freshMs: 60_000,
        staleWhileRevalidateMs: 30_000,
        staleIfErrorMs: 600_000,
      });
    });
  });

  describe("when ttlFrom is Upstream", () => {
    const upstream = { rules: { ttlFrom: "Upstream" as const } };
    it.each([
      ["s-maxage over max-age", { "cache-control": "max-age=10, s-maxage=20" }, 20_000],
      ["max-age", { "cache-control": "max-age=10" }, 10_000],
      ["max-age less the upstream's Age", { "cache-control": "max-age=10", age: "4" }, 6_000],
      [
        "Expires minus Date",
        { expires: "Thu, 01 Jan 2026 00:00:30 GMT", date: "Thu, 01 Jan 2026 00:00:00 GMT" },
        30_000,
      ],
      ["the policy ttl without any", {}, 60_000],
    ])("takes freshness from %s", (_name, headers, freshMs) => {
      expect(decide(headers, upstream)).toMatchObject({ storable: true, freshMs });
    });

    it.each([
      ["7200, 0", 0],
      ["0, 7200", 10_000],
      [["0", "7200"], 10_000],
      ["7200.0", 10_000],
      ["abc", 10_000],
    ] as const)("reads the first value of Age %j", (age, freshMs) => {
      const decision = decide({ "cache-control": "max-age=10", age: age as string | string[] }, upstream);
      if (freshMs === 0) expect(decision).toEqual({ storable: false, reason: "zero-ttl" });
      else expect(decision).toMatchObject({ freshMs });
    });

    it.each([
      ["RFC 850", "Thursday, 01-Jan-26 00:00:30 GMT"],
      ["asctime", "Thu Jan  1 00:00:30 2026"],
    ])("reads an Expires in the %s format", (_name, expires) => {
      const headers = { expires, date: "Thu, 01 Jan 2026 00:00:00 GMT" };
      expect(decide(headers, upstream)).toMatchObject({ storable: true, freshMs: 30_000 });
    });

    it.each([
      ["a number", "0"],
      ["another zone", "Thu, 18 Aug 2050 02:01:18 UTC"],
      ["a two-digit year in IMF form", "Thu, 18 Aug 50 02:01:18 GMT"],
      ["two values", ["Thu, 18 Aug 2050 02:01:18 GMT", "Thu, 18 Aug 2050 02:01:19 GMT"]],
    ])("treats an Expires with %s as already expired, not the policy's ttl", (_name, expires) => {
      expect(decide({ expires }, upstream)).toEqual({ storable: false, reason: "zero-ttl" });
    });

    it.each([
      ["negative", "max-age=-1"],
      ["single-quoted", "max-age='3600'"],
      ["non-numeric", "max-age=abc"],
      ["decimal", "s-maxage=1.5, max-age=600"],
    ])("treats a %s max-age or s-maxage as stale, not the policy's ttl", (_name, cc) => {
      const headers = { "cache-control": cc, expires: "Thu, 18 Aug 2050 02:01:18 GMT" };
      expect(decide(headers, upstream)).toEqual({ storable: false, reason: "zero-ttl" });
    });

    it.each([302, 307, 500])(
      "stores status %i outside cacheableStatuses when it has explicit freshness",
      (status) => {
        expect(decide({ "cache-control": "max-age=30" }, { status, ...upstream })).toMatchObject({
          storable: true,
        });
        expect(decide({}, { status, ...upstream })).toEqual({ storable: false, reason: "status" });
      },
    );

    it("caps an explicitly fresh error status at negativeTtl", () => {
      expect(decide({ "cache-control": "max-age=3600" }, { status: 503, ...upstream })).toMatchObject({
        freshMs: 10_000,
      });
    });

    it("obeys CDN-Cache-Control over Cache-Control and Expires", () => {
      const cdn = { "cdn-cache-control": "max-age=20", "cache-control": "no-store", expires: "0" };
      expect(decide(cdn, upstream)).toMatchObject({ storable: true, freshMs: 20_000 });
      const stop = { "cdn-cache-control": "no-store", "cache-control": "max-age=600" };
      expect(decide(stop, upstream)).toEqual({ storable: false, reason: "no-store" });
    });

    it("obeys Apicache-Cache-Control over CDN-Cache-Control", () => {
      const headers = { "apicache-cache-control": "max-age=7", "cdn-cache-control": "private" };
      expect(decide(headers, upstream)).toMatchObject({ storable: true, freshMs: 7_000 });
    });

    it("takes stale windows from the response's directives", () => {
      expect(
        decide({ "cache-control": "max-age=1, stale-while-revalidate=2, stale-if-error=3" }, upstream),
      ).toMatchObject({
        staleWhileRevalidateMs: 2_000,
        staleIfErrorMs: 3_000,
      });
    });
  });

  it("caps error statuses at negativeTtl", () => {
    expect(decide({}, { status: 404 })).toMatchObject({ storable: true, freshMs: 10_000 });
  });

  it("never serves a must-revalidate response stale", () => {
    expect(decide({ "cache-control": "must-revalidate" })).toMatchObject({
      staleWhileRevalidateMs: 0,
      staleIfErrorMs: 0,
    });
  });

  it("reports the fields Vary names and the upstream's Age", () => {
    expect(decide({ vary: "Accept-Language, accept-encoding", age: "3" })).toMatchObject({
      varyNames: ["accept-language", "accept-encoding"],
      initialAgeSeconds: 3,
    });
  });
});
