import { describe, expect, it } from "vitest";
import { pricedImprovement } from "./priced-improvement.js";
import { sample } from "./sample-fixture.js";
import type { Sample } from "./stats.js";

const many = (n: number, s: Sample) => Array.from({ length: n }, () => s);

describe("pricedImprovement", () => {
  it("prices each request at its own endpoint's forwarded mean, not at the mean of all misses", () => {
    // analytics: slow (1 s) and well cached; profile: fast (250 ms) and never cached.
    const measured = [
      ...many(9, sample("analytics", 0, "hit")),
      sample("analytics", 1000, "miss"),
      ...many(10, sample("profile", 250, "miss")),
    ];
    // waited 1000 + 2500; would have cost 10 × 1000 + 10 × 250 → 1 − 3500 / 12500.
    expect(pricedImprovement(measured, [])).toBeCloseTo(0.72, 10);
  });

  it("prices an endpoint the window never forwarded from the earlier requests", () => {
    const measured = many(10, sample("dashboard", 20, "hit"));
    const earlier = [sample("dashboard", 2000, "miss"), sample("dashboard", 5, "hit")];
    expect(pricedImprovement(measured, earlier)).toBeCloseTo(0.99, 10);
  });

  it("leaves out endpoints it cannot price, and says so with NaN when none can be", () => {
    const measured = [...many(4, sample("catalog", 3, "hit")), sample("slots", 100, "miss")];
    expect(pricedImprovement(measured, [])).toBe(0);
    expect(pricedImprovement(many(3, sample("catalog", 3, "hit")), [])).toBeNaN();
  });

  it("does not price an endpoint from failed requests", () => {
    const failed = { ...sample("slots", 5, "miss"), failed: true };
    const measured = [sample("slots", 2, "hit"), failed];
    expect(pricedImprovement(measured, [])).toBeNaN();
  });
});
