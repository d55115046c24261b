import { describe, expect, it } from "vitest";
import { formatCpu, formatHotpath, formatRatios, median, summarize, summarizeCpu } from "./hotpath-report.js";

const run = {
  date: "2026-12-07T00:00:00Z",
  machine: "test",
  command: "make bench-hotpath",
  scenarios: ["floor", "sidecar L1 hit"],
  rounds: [
    { rps: { floor: 40_000, "sidecar L1 hit": 20_000 } },
    { rps: { floor: 30_000, "sidecar L1 hit": 27_000 } },
    { rps: { floor: 36_000, "sidecar L1 hit": 27_000 } },
  ],
  cacheStatus: { floor: "(none)", "sidecar L1 hit": "apicache; hit; ttl=299" },
  failures: { floor: 0, "sidecar L1 hit": 0 },
  cpuRate: 10_000,
  cpuRounds: [
    { usPerRequest: { floor: 8, "sidecar L1 hit": 14 }, rps: { floor: 9_990, "sidecar L1 hit": 9_980 } },
    { usPerRequest: { floor: 9, "sidecar L1 hit": 12 }, rps: { floor: 9_995, "sidecar L1 hit": 9_970 } },
    { usPerRequest: { floor: 10, "sidecar L1 hit": 16 }, rps: { floor: 10_000, "sidecar L1 hit": 9_990 } },
  ],
  profiles: [],
};

describe("the hot-path report", () => {
  it("takes the median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it("divides each round by its own floor, then takes the median ratio", () => {
    const [floor, l1] = summarize(run);
    expect(floor?.ratio).toBe(1);
    expect(l1?.ratios).toEqual([0.5, 0.9, 0.75]);
    expect(l1?.ratio).toBe(0.75);
    expect(l1?.rps).toBe(27_000);
  });

  it("sets each scenario's median CPU per request against the floor's: its ratio and its excess", () => {
    const [floor, l1] = summarizeCpu(run);
    expect(floor).toMatchObject({ usPerRequest: 9, serverRatio: 1, overFloorUs: 0 });
    expect(l1).toMatchObject({ usPerRequest: 14, perRound: [14, 12, 16], rps: 9_980, overFloorUs: 5 });
    expect(l1?.serverRatio).toBeCloseTo(9 / 14, 10);
    expect(formatCpu(run)).toContain(
      "| sidecar L1 hit | 14.0 µs | 14.0, 12.0, 16.0 | 9,980 | 0.64× | 5.0 µs |",
    );
  });

  it("says the CPU rounds were not measured when there were none", () => {
    expect(formatHotpath({ ...run, cpuRounds: [] })).toContain("(not measured: --rounds 0)");
  });

  it("prints one row per scenario with its ratio and per-round ratios", () => {
    expect(formatRatios(run)).toContain("| sidecar L1 hit | 27,000 | 0.75× | 0.50×, 0.90×, 0.75× | 0 |");
  });
});
