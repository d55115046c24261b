import { describe, expect, it } from "vitest";
import { canonicalJson, sameJson } from "./same-json.js";

describe("sameJson", () => {
  it.each([
    [{ a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: 1 }, { a: "1" }, false],
    [{ a: {} }, { a: [] }, false],
  ])("%j vs %j: %s", (a, b, same) => {
    expect(sameJson(a, b)).toBe(same);
    expect(canonicalJson(a) === canonicalJson(b)).toBe(same);
  });
});
