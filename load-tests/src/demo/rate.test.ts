import { describe, expect, it } from "vitest";
import { capacityLine, demoRate } from "./rate.js";

describe("demoRate", () => {
  it("weights each template's unloaded time by its share of the mix and runs at a fraction of 1/that", () => {
    const rate = demoRate({
      timesMs: { fast: [10, 30], slow: [400, 400] },
      weights: { fast: 3, slow: 1 },
      fraction: 0.5,
    });
    expect(rate.serviceMs).toBe(115); // (3 x 20 + 1 x 400) / 4
    expect(rate.ceiling).toBeCloseTo(8.7, 1);
    expect(rate.rate).toBe(4.3);
  });

  it("never runs slower than 0.1/s", () => {
    expect(demoRate({ timesMs: { slow: [60_000] }, weights: { slow: 1 }, fraction: 0.5 }).rate).toBe(0.1);
  });

  it("refuses a template it has no time for", () => {
    expect(() => demoRate({ timesMs: {}, weights: { slots: 1 }, fraction: 0.5 })).toThrow(/slots/);
  });
});

describe("capacityLine", () => {
  it("names both paths' capacity and the ratio, ≥ when the sidecar's probes all held", () => {
    const line = capacityLine({
      sloMs: 1000,
      windowSeconds: 4,
      direct: { capacity: 3.2, capped: false },
      sidecar: { capacity: 400, capped: true },
    });
    expect(line).toContain(
      "directly 3.2 requests/s, through the sidecar ≥ 400 requests/s, ≥ 125.0× the load",
    );
  });
});

describe("capacityLine when both paths held every probe", () => {
  it("states no ratio", () => {
    const line = capacityLine({
      sloMs: 1000,
      windowSeconds: 2,
      direct: { capacity: 40, capped: true },
      sidecar: { capacity: 40, capped: true },
    });
    expect(line).toContain("directly ≥ 40 requests/s, through the sidecar ≥ 40 requests/s. ");
  });
});
