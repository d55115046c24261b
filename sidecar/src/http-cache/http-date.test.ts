import { describe, expect, it } from "vitest";
import { parseHttpDate } from "./http-date.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");
const AUG_18_2050 = Date.parse("2050-08-18T02:01:18Z");

describe("parseHttpDate", () => {
  it.each([
    ["IMF-fixdate", "Thu, 18 Aug 2050 02:01:18 GMT"],
    ["RFC 850 (two-digit year, within 50 years ahead)", "Thursday, 18-Aug-50 02:01:18 GMT"],
    ["asctime", "Thu Aug 18 02:01:18 2050"],
    ["uppercase day", "THU, 18 Aug 2050 02:01:18 GMT"],
    ["uppercase month", "Thu, 18 AUG 2050 02:01:18 GMT"],
    ["mixed-case zone", "Thu, 18 Aug 2050 02:01:18 gMT"],
    ["surrounding whitespace", "  Thu, 18 Aug 2050 02:01:18 GMT "],
  ])("reads the %s format", (_name, text) => {
    expect(parseHttpDate(text, NOW)).toBe(AUG_18_2050);
  });

  it("reads asctime's space-padded day", () => {
    expect(parseHttpDate("Thu Aug  8 02:01:18 2050", NOW)).toBe(Date.parse("2050-08-08T02:01:18Z"));
  });

  it("puts an RFC 850 year more than 50 years ahead in the past century", () => {
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).toBe(Date.parse("1994-11-06T08:49:37Z"));
  });

  it.each([
    ["another zone", "Thu, 18 Aug 2050 02:01:18 UTC"],
    ["a named zone", "Thu, 18 Aug 2050 02:01:18 AEST"],
    ["a two-digit year in IMF form", "Thu, 18 Aug 50 02:01:18 GMT"],
    ["no comma", "Thu 18 Aug 2050 02:01:18 GMT"],
    ["doubled spaces", "Thu, 18  Aug  2050 02:01:18 GMT"],
    ["dashes in IMF form", "Thu, 18-Aug-2050 02:01:18 GMT"],
    ["periods in the time", "Thu, 18 Aug 2050 02.01.18 GMT"],
    ["a one-digit hour", "Thu, 18 Aug 2050 2:01:18 GMT"],
    ["a day the month lacks", "Sat, 31 Feb 2026 00:00:00 GMT"],
    ["hour 24", "Thu, 18 Aug 2050 24:00:00 GMT"],
    ["a number", "0"],
    ["ISO 8601", "2050-08-18T02:01:18Z"],
    ["nothing", ""],
  ])("rejects %s", (_name, text) => {
    expect(parseHttpDate(text, NOW)).toBeUndefined();
  });
});
