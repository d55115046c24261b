import { describe, expect, it } from "vitest";
import { parseTargeted, responseCacheControl } from "./targeted.js";

describe("targeted cache-control fields (RFC 9213)", () => {
  it("prefers Apicache-Cache-Control, then CDN-Cache-Control, over Cache-Control", () => {
    const headers = {
      "cache-control": "no-store",
      "cdn-cache-control": "max-age=60",
      "apicache-cache-control": "max-age=5",
    };
    expect(responseCacheControl(headers)).toMatchObject({
      field: "apicache-cache-control",
      cc: { maxAge: 5 },
    });
    const { "apicache-cache-control": _, ...cdn } = headers;
    expect(responseCacheControl(cdn)).toMatchObject({
      field: "cdn-cache-control",
      cc: { maxAge: 60, noStore: false },
    });
  });

  it.each([
    ["max-age=3600", { maxAge: 3600 }],
    ["foobar, max-age=3600", { maxAge: 3600 }],
    ["no-store", { noStore: true }],
    ["private, no-cache", { private: true, noCache: true }],
    ["max-age=-1", { maxAge: 0 }],
    ["max-age=99999999999", { maxAge: 2 ** 31 }],
    ["max-age=60;foo=bar, stale-if-error=30", { maxAge: 60, staleIfError: 30 }],
    ['x=(a "b,c"), max-age=9', { maxAge: 9 }],
  ])("reads %j", (value, expected) => {
    expect(parseTargeted(value)).toMatchObject(expected);
  });

  it.each([
    ["a parse error", "max-age=10000, &&&&&"],
    ["a string where an integer belongs", 'max-age="10000"'],
    ["a value on a boolean directive", "no-store=1"],
    ["an uppercase key", "MaX-aGe=3600"],
    ["a space before =", "max-age =100"],
    ["a space after =", "max-age= 100"],
    ["a trailing comma", "max-age=1,"],
    ["an empty field", ""],
  ])("ignores a field with %s, falling back to Cache-Control", (_name, value) => {
    expect(parseTargeted(value)).toBeUndefined();
    expect(responseCacheControl({ "cdn-cache-control": value, "cache-control": "no-store" })).toMatchObject({
      field: "cache-control",
      cc: { noStore: true },
    });
  });
});
