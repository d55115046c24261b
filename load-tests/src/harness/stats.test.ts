import { describe, expect, it } from "vitest";
import { compare, compareScenario, improvement, percentile, type Sample } from "./stats.js";

const sample = (
  endpoint: Sample["endpoint"],
  latencyMs: number,
  cache: Sample["cache"] = "none",
  failed = false,
): Sample => ({
  name: endpoint,
  endpoint,
  method: "GET",
  path: "/",
  status: failed ? 500 : 200,
  latencyMs,
  cache,
  failed,
});

describe("percentile", () => {
  it.each([
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    [[10, 1], 50, 1],
    [[7], 99, 7],
  ])("of %j at p%i is %i (nearest rank)", (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it("is NaN without values", () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("compare", () => {
  it("computes improvement, hit ratio and saved upstream requests", () => {
    const c = compare(
      "slots",
      [sample("slots", 200), sample("slots", 300)],
      [sample("slots", 2, "hit"), sample("slots", 250, "miss")],
    );
    expect(c.hitRatio).toBe(0.5);
    expect(c.upstreamSaved).toBe(1);
    expect(c.p95Improvement).toBeCloseTo(improvement(300, 250));
  });

  it("splits a scenario into endpoints, reads, writes and the total", () => {
    const before = [sample("slots", 100), sample("catalog", 50), sample("write", 5)];
    const after = [sample("slots", 1, "hit"), sample("catalog", 1, "hit"), sample("write", 6, "bypass")];
    const result = compareScenario("mixed", before, after);
    expect(result.byEndpoint.map((c) => c.label)).toEqual(["slots", "catalog"]);
    expect(result.reads.after.n).toBe(2);
    expect(result.writes.before.p50).toBe(5);
    expect(result.overall.before.n).toBe(3);
  });
});
