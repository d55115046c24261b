import { describe, expect, it } from "vitest";
import { formatL1Table, type L1Figures, summarizeL1 } from "./l1-lru-report.js";

const figures = (hit: number, heapPerEntry: number): L1Figures => ({
  hit,
  miss: 1_000,
  overwrite: 1_000,
  setEvict: 1_000,
  heapPerEntry,
});

describe("the L1 LRU comparison", () => {
  const rounds = [
    { baseline: figures(100, 200), challenger: figures(150, 220) },
    { baseline: figures(50, 200), challenger: figures(100, 220) },
    { baseline: figures(200, 200), challenger: figures(100, 220) },
  ];

  it("takes the median of the per-round ratios, not the ratio of the medians", () => {
    const hit = summarizeL1(rounds).find((row) => row.measure === "hit");
    expect(hit).toMatchObject({
      baseline: 100,
      challenger: 100,
      ratio: 1.5,
      min: 0.5,
      max: 2,
      ratios: [1.5, 2, 0.5],
    });
  });

  it("prints one row per measure with the ratio and its spread", () => {
    const table = formatL1Table(summarizeL1(rounds), { baseline: "hand-written", challenger: "lru-cache" });
    expect(table).toContain(
      "| lookup, hit (ops/s) | 100.0 | 100.0 | **1.50×** | 0.50 – 2.00 | 1.50, 2.00, 0.50 |",
    );
    expect(table).toContain(
      "| heap per entry (bytes) | 200.0 | 220.0 | **1.10×** | 1.10 – 1.10 | 1.10, 1.10, 1.10 |",
    );
    expect(table.split("\n")).toHaveLength(7);
  });
});
