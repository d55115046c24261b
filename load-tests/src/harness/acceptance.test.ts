import { describe, expect, it } from "vitest";
import { loadThresholds } from "../thresholds.js";
import { mixedVerdicts, readOnlyVerdicts } from "./acceptance.js";
import { sample } from "./sample-fixture.js";
import { compareScenario, type Sample } from "./stats.js";

const s = (endpoint: Sample["endpoint"], latencyMs: number): Sample => sample(endpoint, latencyMs, "none");
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

  it("without the isolated measurement, fails run writes that got slower by more than 1 ms at p50", () => {
    const result = compareScenario(
      "mixed",
      [s("slots", 100), s("write", 5)],
      [s("slots", 1), s("write", 6.5)],
    );
    const writes = mixedVerdicts(result, { failed: 0, stale: 0 }, thresholds).find((v) =>
      v.criterion.includes("writes p50"),
    );
    expect(writes).toMatchObject({ pass: false, measured: "+1.50 ms (5.00 → 6.50 ms)" });
  });

  it("judges writes one at a time on the warmed-up window, and fails any failed write", () => {
    const result = compareScenario("mixed", [s("write", 5)], [s("write", 5)]);
    const isolated = (sidecarP50: number, failed = 0) =>
      mixedVerdicts(result, { failed: 0, stale: 0 }, thresholds, {
        steady: { directP50: 1, sidecarP50 },
        failed,
      }).find((v) => v.criterion.includes("one at a time"));
    const inRun = mixedVerdicts(result, { failed: 0, stale: 0 }, thresholds, {
      steady: { directP50: 1, sidecarP50: 9 },
      failed: 0,
    }).find((v) => v.criterion.includes("within the run"));
    expect(inRun).toMatchObject({ informational: true, pass: true });
    expect(isolated(1.9)).toMatchObject({ pass: true, measured: "+0.90 ms (1.00 → 1.90 ms)" });
    expect(isolated(2.2)).toMatchObject({ pass: false, measured: "+1.20 ms (1.00 → 2.20 ms)" });
    expect(isolated(1.5, 1)).toMatchObject({ pass: false });
  });
});
