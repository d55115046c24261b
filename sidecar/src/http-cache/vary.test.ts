import { describe, expect, it } from "vitest";
import { varyMatches, varyNames, varyValues } from "./vary.js";

describe("Vary", () => {
  it.each([
    [undefined, []],
    ["Accept-Language", ["accept-language"]],
    ["accept, Accept ,  Accept-Encoding", ["accept", "accept-encoding"]],
    [
      ["Accept", "Origin"],
      ["accept", "origin"],
    ],
    ["Accept, *", ["*"]],
  ])("names %j as %j", (header, names) => {
    expect(varyNames(header)).toEqual(names);
  });

  const stored = varyValues(["accept-language", "x-absent"], { "accept-language": "de,  en" });

  it("records absent fields as null", () => {
    expect(stored).toEqual([
      ["accept-language", "de, en"],
      ["x-absent", null],
    ]);
  });

  it.each([
    [{ "accept-language": "de, en" }, true],
    [{ "accept-language": "de,\ten" }, true],
    [{ "accept-language": "fr" }, false],
    [{}, false],
    [{ "accept-language": "de, en", "x-absent": "now present" }, false],
  ])("for request fields %j matches: %s", (request, matches) => {
    expect(varyMatches(stored, request)).toBe(matches);
  });
});
