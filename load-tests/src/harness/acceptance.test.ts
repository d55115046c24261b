import { describe, expect, it } from "vitest";
import { loadThresholds } from "../thresholds.js";
import { mixedVerdicts, readOnlyVerdicts } from "./acceptance.js";
import { compareScenario, type Sample } from "./stats.js";

const s = (endpoint: Sample["endpoint"], latencyMs: number): Sample => ({
  name: endpoint,
  endpoint,
  status: 200,
  latencyMs,
  cache: "none",
  failed: false,
});
const thresholds = loadThresholds();

describe("acceptance verdicts", () => {
  it("passes a read-only run whose endpoints all improved by more than 80%", () => {
    const result = compareScenario(
      "read-only",
      [s("slots", 100), s("catalog", 100)],
      [s("slots", 5), s("catalog", 10)],
    );
    expect(readOnlyVerdicts(result, { failed: 0, stale: 0 }, thresholds).every((v) => v.pass)).toBe(true);
  });

  it("fails an endpoint that improved by less, and any stale read", () => {
    const result = compareScenario("read-only", [s("slots", 100)], [s("slots", 30)]);
    const failed = readOnlyVerdicts(result, { failed: 0, stale: 1 }, thresholds).filter((v) => !v.pass);
    expect(failed.map((v) => v.criterion)).toEqual([
      "read-only: slots p95 improved >= 80%",
      "read-only: stale reads after a write <= 0",
    ]);
  });

  it("fails writes that got slower by more than 1 ms at p50", () => {
    const result = compareScenario(
      "mixed",
      [s("slots", 100), s("write", 5)],
      [s("slots", 1), s("write", 6.5)],
    );
    const writes = mixedVerdicts(result, { failed: 0, stale: 0 }, thresholds).find((v) =>
      v.criterion.includes("writes p50"),
    );
    expect(writes).toMatchObject({ pass: false, measured: "+1.50 ms" });
  });
});
