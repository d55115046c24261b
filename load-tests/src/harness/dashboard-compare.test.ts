import { describe, expect, it } from "vitest";
import {
  HEADLINE_PANELS,
  judgePanels,
  type PanelReading,
  renderDashboardCheck,
} from "./dashboard-compare.js";
import { sample } from "./sample-fixture.js";
import { compareScenario } from "./stats.js";

const reading = (dashboard: number | undefined, harness: number): PanelReading => ({
  title: "Hit ratio",
  harnessFigure: "hit ratio, reads",
  dashboard,
  harness,
  query: "q",
});

describe("the dashboard check", () => {
  describe("the harness figure of each headline panel", () => {
    // Direct: 4 reads of 100 ms and a write of 100 ms. Through the sidecar: 3 hits of 1 ms, a miss of
    // 100 ms and the write (bypass) of 100 ms.
    const direct = [
      ...Array.from({ length: 4 }, () => sample("slots", 100, "none")),
      sample("write", 100, "none"),
    ];
    const through = [
      ...Array.from({ length: 3 }, () => sample("slots", 1, "hit")),
      sample("slots", 100, "miss"),
      sample("write", 100, "bypass"),
    ];
    const comparison = compareScenario("t", direct, through);
    // One read verifying the write, a miss (the write dropped its entry).
    const run = { comparison, checkReads: ["miss"] as const, samples: through, earlierSamples: [] };
    const figure = (title: string) => HEADLINE_PANELS.find((p) => p.title === title)?.harness(run);

    it("improvement prices every request at its endpoint's time when the sidecar forwarded it", () => {
      // slots: 4 requests at the miss's 100 ms, the write at its own 100 ms; they waited 3 + 100 + 100.
      expect(figure("Improvement")).toBeCloseTo(1 - 203 / 500);
    });

    it("improvement does not depend on how slow the direct path was (its queueing is not the panel's)", () => {
      const queued = compareScenario(
        "t",
        direct.map((s) => ({ ...s, latencyMs: s.latencyMs * 10 })),
        through,
      );
      const slower = HEADLINE_PANELS[0]?.harness({ ...run, comparison: queued });
      expect(slower).toBe(figure("Improvement"));
    });

    it("hit ratio counts the reads and the write checks (writes are not cache candidates)", () => {
      expect(figure("Hit ratio")).toBeCloseTo(3 / 5);
    });

    it("upstream requests saved is the share of all requests and write checks answered without the upstream", () => {
      expect(figure("Upstream requests saved")).toBeCloseTo(3 / 6);
    });

    it("improvement leaves the write checks out (they are not timed on the direct path)", () => {
      const without = HEADLINE_PANELS[0]?.harness({ ...run, checkReads: [] });
      expect(figure("Improvement")).toBe(without);
    });
  });

  describe("judging a panel", () => {
    it.each([
      [0.9, 0.86, true],
      [0.9, 0.95, true],
      [0.9, 0.849, false],
      [0.5, 0.9, false],
    ])("dashboard %f vs harness %f: ok = %s", (dashboard, harness, ok) => {
      const [verdict] = judgePanels([reading(dashboard, harness)]);
      expect(verdict?.ok).toBe(ok);
      expect(verdict?.differencePp).toBeCloseTo((dashboard - harness) * 100);
    });

    it("fails a panel that shows no data", () => {
      const [verdict] = judgePanels([reading(undefined, 0.9)]);
      expect(verdict?.ok).toBe(false);
      expect(verdict?.differencePp).toBeNaN();
    });
  });

  it("prints one row per panel with both values, the difference and the verdict", () => {
    const table = renderDashboardCheck(judgePanels([reading(0.912, 0.9), reading(undefined, 0.9)]));
    const rows = table.split("\n");
    expect(rows[0]).toContain("within 5 pp");
    expect(rows[2]).toBe("| Hit ratio | 91.2% | 90.0% | hit ratio, reads | +1.2 pp | ok |");
    expect(rows[3]).toBe("| Hit ratio | no data | 90.0% | hit ratio, reads | – | **FAIL** |");
  });
});
