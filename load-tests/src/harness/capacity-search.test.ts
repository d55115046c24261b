import { describe, expect, it } from "vitest";
import { certainToMiss, ladder, roundRate, type SearchPlan, searchCapacity } from "./capacity-search.js";

const plan: SearchPlan = { start: 1, factor: 2, maxRate: 100, resolution: 0.1, minRate: 0.1 };

/** A fake path that holds every rate up to `limit`. */
const pathHolding = (limit: number) => async (rate: number) => ({ pass: rate <= limit });

describe("the capacity ladder", () => {
  it("multiplies by the factor and clamps the last step to the maximum", () => {
    expect(ladder({ start: 1, factor: 2, maxRate: 20 })).toEqual([1, 2, 4, 8, 16, 20]);
    expect(ladder({ start: 2.4, factor: 4, maxRate: 2000 })).toEqual([2.4, 9.6, 38.4, 153.6, 614.4, 2000]);
  });

  it("rounds rates to hundredths (k6 counts whole iterations per 100 s)", () => {
    expect(ladder({ start: 1 / 3, factor: 3, maxRate: 3 })).toEqual([0.33, 1, 3]);
    expect(roundRate(0.001)).toBe(0.01);
  });

  it("rejects a factor that would never climb", () => {
    expect(() => ladder({ start: 1, factor: 1, maxRate: 5 })).toThrow(RangeError);
  });
});

describe("searchCapacity", () => {
  it("climbs the ladder, then bisects to within the resolution", async () => {
    const result = await searchCapacity(plan, pathHolding(2.9));
    expect(result.probes.map((p) => p.rate)).toEqual([1, 2, 4, 3, 2.5, 2.75]);
    expect(result.capacity).toBe(2.75);
    expect(result.firstFailed).toBe(3);
    expect(result.capped).toBe(false);
    expect((3 - 2.75) / 2.75).toBeLessThanOrEqual(plan.resolution);
  });

  it("reports a capped capacity when the top of the ladder still holds", async () => {
    const result = await searchCapacity(plan, pathHolding(1000));
    expect(result).toMatchObject({ capacity: 100, capped: true });
    expect(result.probes.at(-1)?.rate).toBe(100);
  });

  it("steps down when even the start fails", async () => {
    const result = await searchCapacity(plan, pathHolding(0.3));
    expect(result.probes.map((p) => p.rate).slice(0, 3)).toEqual([1, 0.5, 0.25]);
    expect(result.capacity).toBeGreaterThanOrEqual(0.25);
    expect(result.capacity).toBeLessThanOrEqual(0.3);
  });

  it("reports 0 when not even the lowest rate holds", async () => {
    const result = await searchCapacity({ ...plan, minRate: 0.25 }, pathHolding(0.1));
    expect(result.capacity).toBe(0);
    expect(result.probes.map((p) => p.rate)).toEqual([1, 0.5, 0.25]);
  });

  it("keeps each probe's own result", async () => {
    const result = await searchCapacity(plan, async (rate) => ({ pass: rate < 2, p95: rate * 10 }));
    expect(result.probes[0]?.result).toEqual({ pass: true, p95: 10 });
  });
});

describe("certainToMiss", () => {
  it("is certain once more late requests than the 5% a p95 allows", () => {
    // 100 planned: nearest-rank p95 is the 95th value, so 5 late requests still leave it in the SLO.
    expect(certainToMiss({ planned: 100, late: 5, failed: 0, maxFailed: 0 })).toBe(false);
    expect(certainToMiss({ planned: 100, late: 6, failed: 0, maxFailed: 0 })).toBe(true);
    expect(certainToMiss({ planned: 10, late: 1, failed: 0, maxFailed: 0 })).toBe(true);
  });

  it("is certain once more requests failed than allowed", () => {
    expect(certainToMiss({ planned: 1000, late: 0, failed: 1, maxFailed: 0 })).toBe(true);
    expect(certainToMiss({ planned: 1000, late: 0, failed: 1, maxFailed: 1 })).toBe(false);
  });
});
