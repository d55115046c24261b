import { describe, expect, it } from "vitest";
import { selectorMatches, selectorsOverlap } from "./selector.js";

describe("selectorMatches", () => {
  it.each([
    [{ matchLabels: { app: "a" } }, { app: "a", tier: "web" }, true],
    [{ matchLabels: { app: "a" } }, { app: "b" }, false],
    [{ matchExpressions: [{ key: "app", operator: "In" as const, values: ["a", "b"] }] }, { app: "b" }, true],
    [{ matchExpressions: [{ key: "app", operator: "NotIn" as const, values: ["a"] }] }, {}, true],
    [{ matchExpressions: [{ key: "app", operator: "NotIn" as const, values: ["a"] }] }, { app: "a" }, false],
    [{ matchExpressions: [{ key: "canary", operator: "Exists" as const }] }, { canary: "" }, true],
    [{ matchExpressions: [{ key: "canary", operator: "DoesNotExist" as const }] }, { canary: "1" }, false],
    [{}, { app: "a" }, false],
  ])("%j matches %j: %s", (selector, labels, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});

describe("selectorsOverlap", () => {
  it.each([
    [{ matchLabels: { app: "a" } }, { matchLabels: { app: "a" } }, { app: "a" }],
    [{ matchLabels: { app: "a" } }, { matchLabels: { tier: "web" } }, { app: "a", tier: "web" }],
    [
      { matchLabels: { app: "a" } },
      { matchExpressions: [{ key: "app", operator: "In" as const, values: ["a", "b"] }] },
      { app: "a" },
    ],
    [
      { matchExpressions: [{ key: "app", operator: "NotIn" as const, values: ["x"] }] },
      { matchExpressions: [{ key: "app", operator: "Exists" as const }] },
      { app: "xx" },
    ],
  ])("%j and %j overlap (e.g. %j)", (a, b, witness) => {
    expect(selectorsOverlap(a, b)).toEqual(witness);
  });

  it.each([
    [{ matchLabels: { app: "a" } }, { matchLabels: { app: "b" } }],
    [
      { matchLabels: { app: "a" } },
      { matchExpressions: [{ key: "app", operator: "NotIn" as const, values: ["a"] }] },
    ],
    [
      { matchLabels: { app: "a" } },
      { matchExpressions: [{ key: "app", operator: "DoesNotExist" as const }] },
    ],
    [
      { matchExpressions: [{ key: "app", operator: "In" as const, values: ["a", "b"] }] },
      { matchExpressions: [{ key: "app", operator: "In" as const, values: ["c"] }] },
    ],
  ])("%j and %j are disjoint", (a, b) => {
    expect(selectorsOverlap(a, b)).toBeUndefined();
  });

  it("agrees with selectorMatches on its witness", () => {
    const a = {
      matchLabels: { app: "a" },
      matchExpressions: [{ key: "tier", operator: "NotIn" as const, values: ["db"] }],
    };
    const b = { matchExpressions: [{ key: "tier", operator: "Exists" as const }] };
    const witness = selectorsOverlap(a, b);
    expect(witness).toBeDefined();
    expect(selectorMatches(a, witness) && selectorMatches(b, witness)).toBe(true);
  });
});
