import { describe, expect, it } from "vitest";
import { bodyFieldValues, jsonObjectBody } from "./body-fields.js";

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("body fields of a write", () => {
  it.each([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["application/merge-patch+json", true],
    ["Application/JSON", true],
    ["text/plain", false],
    ["application/jsonp", false],
    [undefined, false],
  ])("reads a body of content type %s: %s", (type, readable) => {
    expect(jsonObjectBody(json({ a: 1 }), type) !== undefined).toBe(readable);
  });

  it.each([
    ["invalid JSON", Buffer.from("{nope")],
    ["an array", json([1])],
    ["a string", json("x")],
    ["null", json(null)],
  ])("gives nothing for %s", (_name, body) => {
    expect(jsonObjectBody(body, "application/json")).toBeUndefined();
  });

  it("gives string and number values as strings", () => {
    expect(bodyFieldValues({ barberId: 42, day: "2026-12-01", other: true }, ["barberId", "day"])).toEqual({
      barberId: "42",
      day: "2026-12-01",
    });
  });

  it.each([
    ["missing", {}],
    ["null", { barberId: null }],
    ["a boolean", { barberId: true }],
    ["an object", { barberId: { id: 1 } }],
    ["empty", { barberId: "" }],
    ["too long", { barberId: "x".repeat(257) }],
    ["not finite", { barberId: Number.NaN }],
  ])("falls back when a field is %s", (_name, body) => {
    expect(bodyFieldValues(body, ["barberId"])).toBeUndefined();
  });

  it("never reads inherited properties", () => {
    expect(bodyFieldValues(JSON.parse('{"a":"1"}'), ["a", "toString"])).toBeUndefined();
  });
});
