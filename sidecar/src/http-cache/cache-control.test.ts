import { describe, expect, it } from "vitest";
import { parseCacheControl } from "./cache-control.js";

describe("parseCacheControl", () => {
  it("reads nothing from an absent header", () => {
    const parsed = parseCacheControl(undefined);
    expect(parsed.noStore).toBe(false);
    expect(parsed.maxAge).toBeUndefined();
  });

  it.each([
    ["no-store", { noStore: true }],
    ["No-Store", { noStore: true }],
    ["private", { private: true }],
    ['private="set-cookie"', { private: true }],
    ['no-cache="x-foo, x-bar", max-age=5', { noCache: true, maxAge: 5 }],
    ["public, max-age=60", { public: true, maxAge: 60 }],
    ["s-maxage=30, max-age=10", { sMaxAge: 30, maxAge: 10 }],
    ['max-age="20"', { maxAge: 20 }],
    ["must-revalidate, proxy-revalidate", { mustRevalidate: true, proxyRevalidate: true }],
    ["stale-while-revalidate=30, stale-if-error=600", { staleWhileRevalidate: 30, staleIfError: 600 }],
    ["only-if-cached", { onlyIfCached: true }],
  ])("parses %j", (header, expected) => {
    expect(parseCacheControl(header)).toMatchObject(expected);
  });

  it.each([["max-age=-1"], ["max-age=1.5"], ["max-age="], ["max-age"], ["max-age=abc"]])(
    "ignores the invalid delta-seconds in %j",
    (header) => {
      expect(parseCacheControl(header).maxAge).toBeUndefined();
    },
  );

  it("keeps the smallest of duplicated max-age directives", () => {
    expect(parseCacheControl("max-age=60, max-age=5").maxAge).toBe(5);
  });

  it("caps delta-seconds at 2^31", () => {
    expect(parseCacheControl("max-age=99999999999999").maxAge).toBe(2 ** 31);
  });

  it("joins repeated header fields", () => {
    expect(parseCacheControl(["public", "no-store"])).toMatchObject({ public: true, noStore: true });
  });

  it("ignores empty members and unknown directives", () => {
    expect(parseCacheControl(" , foo=bar,, max-age=3 ,")).toMatchObject({ maxAge: 3, noStore: false });
  });
});
