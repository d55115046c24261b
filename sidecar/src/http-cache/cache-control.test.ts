import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CacheControl, formatCacheControl, parseCacheControl } from "./cache-control.js";

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

  it.each([
    ["max-age=-1"],
    ["max-age=1.5"],
    ["max-age="],
    ["max-age"],
    ["max-age=abc"],
    ["max-age='3600'"],
    ["max-age =3600"],
    ["max-age= 3600"],
    ["max-age=3600a"],
    ["max-age=60, max-age=-1"],
  ])("reads the invalid delta-seconds in %j as 0 (stale), never as absent", (header) => {
    expect(parseCacheControl(header).maxAge).toBe(0);
  });

  it("reads an invalid s-maxage as 0, so that it still overrides max-age", () => {
    expect(parseCacheControl('s-maxage="x", max-age=600')).toMatchObject({ sMaxAge: 0, maxAge: 600 });
  });

  it("does not see a directive inside another directive's quoted argument", () => {
    expect(parseCacheControl('extension="max-age=3600", max-age=1').maxAge).toBe(1);
    expect(parseCacheControl('max-age=1, extension="max-age=3600, no-store"')).toMatchObject({
      maxAge: 1,
      noStore: false,
    });
  });

  it("keeps the smallest of duplicated max-age directives", () => {
    expect(parseCacheControl("max-age=60, max-age=5").maxAge).toBe(5);
  });

  it("caps delta-seconds at 2^31", () => {
    expect(parseCacheControl("max-age=99999999999999").maxAge).toBe(2 ** 31);
  });

  it("joins repeated header fields", () => {
    expect(parseCacheControl(["public", "no-store"])).toMatchObject({ public: true, noStore: true });
  });

  it.each(["constructor", "__proto__", "toString=5", "hasOwnProperty"])(
    "reads %j as an unknown directive, not a property of Object.prototype",
    (header) => {
      expect(parseCacheControl(header)).toEqual(parseCacheControl(undefined));
    },
  );

  it("ignores empty members and unknown directives", () => {
    expect(parseCacheControl(" , foo=bar,, max-age=3 ,")).toMatchObject({ maxAge: 3, noStore: false });
  });

  describe("for any input (property-based)", () => {
    const directive = fc.oneof(
      fc.constantFrom("no-store", "no-cache", "private", "public", "max-age", "s-maxage", "must-revalidate"),
      fc.string(),
    );
    const argument = fc.oneof(
      fc.nat().map(String),
      fc.string(),
      fc.string().map((s) => `"${s}"`),
    );
    const member = fc
      .tuple(directive, fc.option(argument))
      .map(([name, arg]) => (arg === null ? name : `${name}=${arg}`));
    const header = fc.oneof(
      fc.string(),
      fc.array(member).map((members) => members.join(", ")),
    );

    it("never throws, and delta-seconds are integers in [0, 2^31]", () => {
      fc.assert(
        fc.property(fc.oneof(header, fc.array(header)), (value) => {
          const cc = parseCacheControl(value);
          for (const seconds of [cc.maxAge, cc.sMaxAge, cc.staleWhileRevalidate, cc.staleIfError]) {
            if (seconds === undefined) continue;
            expect(Number.isInteger(seconds) && seconds >= 0 && seconds <= 2 ** 31).toBe(true);
          }
        }),
      );
    });

    it("round-trips: formatting what was parsed and parsing it again gives the same", () => {
      fc.assert(
        fc.property(header, (value) => {
          const cc = parseCacheControl(value);
          expect(parseCacheControl(formatCacheControl(cc))).toEqual(cc);
        }),
      );
    });

    it("round-trips every Cache-Control value", () => {
      const seconds = fc.option(fc.integer({ min: 0, max: 2 ** 31 }), { nil: undefined });
      const flags = fc.record({
        noStore: fc.boolean(),
        noCache: fc.boolean(),
        private: fc.boolean(),
        public: fc.boolean(),
        mustRevalidate: fc.boolean(),
        proxyRevalidate: fc.boolean(),
        onlyIfCached: fc.boolean(),
      });
      const numbers = fc.record({
        maxAge: seconds,
        sMaxAge: seconds,
        staleWhileRevalidate: seconds,
        staleIfError: seconds,
      });
      fc.assert(
        fc.property(flags, numbers, (f, n) => {
          const cc: CacheControl = {
            ...f,
            ...Object.fromEntries(Object.entries(n).filter(([, v]) => v !== undefined)),
          };
          expect(parseCacheControl(formatCacheControl(cc))).toEqual(cc);
        }),
      );
    });
  });
});
