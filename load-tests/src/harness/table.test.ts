import { describe, expect, it } from "vitest";
import { sample } from "./sample-fixture.js";
import { compareScenario, type Sample } from "./stats.js";
import { formatMs, parseComparisonTable, renderComparison, renderVerdicts } from "./table.js";

describe("the comparison table", () => {
  const result = compareScenario(
    "demo",
    ["slots", "analytics", "dashboard", "profile", "catalog"].map((e) =>
      sample(e as Sample["endpoint"], 200, "none"),
    ),
    ["slots", "analytics", "dashboard", "profile", "catalog"].map((e) =>
      sample(e as Sample["endpoint"], 2, "hit"),
    ),
  );

  it("parses back what it renders, one row per endpoint type plus totals", () => {
    const rows = parseComparisonTable(`some preamble\n${renderComparison(result)}\ntrailing text`);
    expect(rows.map((r) => r.endpoint)).toEqual([
      "slots",
      "analytics",
      "dashboard",
      "profile",
      "catalog",
      "all reads",
      "all requests",
    ]);
    expect(rows[0]?.p95Improvement).toBe(99);
    expect(rows[0]?.hitRatio).toBe(1);
  });

  it("finds no rows in text without a table", () => {
    expect(parseComparisonTable("nothing here")).toEqual([]);
  });

  it.each([
    [1.234, "1.23 ms"],
    [12.6, "13 ms"],
    [Number.NaN, "–"],
  ])("formats %d as %s", (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });

  it("marks failed verdicts", () => {
    expect(renderVerdicts([{ criterion: "c", measured: "1", pass: false }])).toContain("**FAIL**");
  });
});
