import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type HarnessRun,
  HEADLINE_PANELS,
  improvementOverstatement,
  judgePanels,
  type PanelReading,
  renderDashboardCheck,
} from "./dashboard-compare.js";
import { sample } from "./sample-fixture.js";
import { policyRoutes } from "./sidecar-route.js";
import { compareScenario, type TimedRequest } from "./stats.js";

/** The sidecar's route labels under the policy the bench runs it with. */
const demoRoute = policyRoutes(readFileSync(join(import.meta.dirname, "../../policies/demo.yaml"), "utf8"));
const many = <T>(n: number, s: T) => Array.from({ length: n }, () => s);

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
    // 100 ms and the write (bypass) of 100 ms, a PUT of a user's profile (the user-profile route).
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
    // One read verifying the write, a miss of 100 ms (the write dropped its entry).
    const checkRead: TimedRequest = {
      method: "GET",
      path: "/api/v2/users/1/profile",
      status: 200,
      latencyMs: 100,
      cache: "miss",
      failed: false,
    };
    const run: HarnessRun = {
      comparison,
      checkReads: [checkRead],
      samples: through,
      earlierSamples: [],
      routeOf: demoRoute,
    };
    const figure = (title: string, of: HarnessRun = run) =>
      HEADLINE_PANELS.find((p) => p.title === title)?.harness(of);

    it("improvement prices every request at its route's time when the sidecar forwarded it", () => {
      // slots: 4 requests at the miss's 100 ms, the write at its own 100 ms; they waited 3 + 100 + 100.
      expect(figure("Improvement", { ...run, checkReads: [] })).toBeCloseTo(1 - 203 / 500);
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

    it("improvement counts the write checks, in their route (they are in the panel's counters)", () => {
      // user-profile: the write and the check, both forwarded at 100 ms: 1 − (3 + 100 + 100 + 100) / 600.
      expect(figure("Improvement")).toBeCloseTo(1 - 303 / 600);
    });
  });

  describe("improvement counts the requests the panel counts (review finding B1)", () => {
    const availability = { method: "PUT", path: "/api/v2/barbers/3/availability" };
    const improvement = (through: ReturnType<typeof sample>[], checkReads: TimedRequest[] = []) => {
      const direct = through.map((s) => ({ ...s, cache: "none" as const }));
      return HEADLINE_PANELS.find((p) => p.title === "Improvement")?.harness({
        comparison: compareScenario("t", direct, through),
        checkReads,
        samples: through,
        earlierSamples: [],
        routeOf: demoRoute,
      });
    };

    it('leaves out writes the sidecar labels route none, as the panel\'s route!="none" does', () => {
      // Reads: 10 slots hits at 5 ms, 2 slots misses at 200 ms (slots is priced at 200 ms).
      // Writes: 3 × PUT /api/v2/barbers/{id}/availability at 150 ms — route "none" in the sidecar's metrics.
      const through = [
        ...many(10, sample("slots", 5, "hit")),
        ...many(2, sample("slots", 200, "miss")),
        ...many(3, sample("write", 150, "bypass", availability)),
      ];
      // What the panel computes from the same requests: 1 − (10 × 5 + 2 × 200) / (12 × 200) = 0.8125.
      // Grouped by endpoint type, as before: 1 − (450 + 450) / (2400 + 450) = 0.684, 12.8 pp off.
      expect(improvement(through)).toBeCloseTo(0.8125, 3);
    });

    it("counts the reads that verified writes, which go through the sidecar", () => {
      // As above, and 2 reads of the slots checking bookings, misses at 200 ms (route available-slots).
      const through = [
        ...many(10, sample("slots", 5, "hit")),
        ...many(2, sample("slots", 200, "miss")),
        ...many(2, sample("write", 150, "bypass", { method: "POST", path: "/api/v2/appointments" })),
      ];
      const check: TimedRequest = { ...sample("slots", 200, "miss") };
      // 1 − (50 + 400 + 400) / (14 × 200).
      expect(improvement(through, [check, check])).toBeCloseTo(1 - 850 / 2800, 10);
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

describe("the Improvement panel against the direct path", () => {
  const direct = [sample("slots", 100, "none"), sample("slots", 100, "none")];
  const through = [sample("slots", 1, "hit"), sample("slots", 49, "miss")];
  // Mean improvement over the direct path: 1 − 25 / 100 = 75%.
  const comparison = compareScenario("t", direct, through);
  const improvement = (dashboard: number | undefined) =>
    judgePanels([{ ...reading(dashboard, 0.7), title: "Improvement" }]);

  it.each([
    [0.6, true],
    [0.79, true],
    [0.81, false],
  ])("a panel reading %f against 75%%: ok = %s (lower is allowed, flattering is not)", (dashboard, ok) => {
    const over = improvementOverstatement(improvement(dashboard), comparison);
    expect(over?.ok).toBe(ok);
    expect(over?.differencePp).toBeCloseTo(dashboard * 100 - 75);
  });

  it("fails without the panel's value, and says nothing without the panel", () => {
    expect(improvementOverstatement(improvement(undefined), comparison)?.ok).toBe(false);
    expect(improvementOverstatement(judgePanels([reading(0.5, 0.5)]), comparison)).toBeUndefined();
  });
});
