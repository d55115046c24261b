/**
 * The table of sidecar/bench/l1-lru-bench.ts (pure): per measure, each implementation's median over the
 * rounds and the median of the per-round ratios challenger ÷ baseline, with their spread (a burst of
 * load from other processes lands on both sides of a round's ratio more often than on one).
 */
import { median } from "./hotpath-report.js";

/** One child's figures: heap bytes per entry, and operations per second of each operation. */
export type L1Figures = Readonly<Record<L1Measure, number>>;

export type L1Measure = "heapPerEntry" | "hit" | "miss" | "overwrite" | "setEvict";

export interface L1Round {
  readonly baseline: L1Figures;
  readonly challenger: L1Figures;
}

export interface L1Row {
  readonly measure: L1Measure;
  readonly baseline: number;
  readonly challenger: number;
  /** Median of the per-round ratios challenger ÷ baseline. */
  readonly ratio: number;
  readonly min: number;
  readonly max: number;
  /** The per-round ratios, in round order. */
  readonly ratios: readonly number[];
}

const MEASURES: readonly { readonly measure: L1Measure; readonly label: string }[] = [
  { measure: "hit", label: "lookup, hit (ops/s)" },
  { measure: "miss", label: "lookup, miss (ops/s)" },
  { measure: "overwrite", label: "put, overwrite (ops/s)" },
  { measure: "setEvict", label: "put, new key + eviction (ops/s)" },
  { measure: "heapPerEntry", label: "heap per entry (bytes)" },
];

export function summarizeL1(rounds: readonly L1Round[]): L1Row[] {
  return MEASURES.map(({ measure }) => {
    const ratios = rounds.map((round) => round.challenger[measure] / round.baseline[measure]);
    return {
      measure,
      baseline: median(rounds.map((round) => round.baseline[measure])),
      challenger: median(rounds.map((round) => round.challenger[measure])),
      ratio: median(ratios),
      min: Math.min(...ratios),
      max: Math.max(...ratios),
      ratios,
    };
  });
}

const figure = (value: number): string =>
  value >= 1_000 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);

export function formatL1Table(
  rows: readonly L1Row[],
  names: { baseline: string; challenger: string },
): string {
  const label = (measure: L1Measure) => MEASURES.find((m) => m.measure === measure)?.label ?? measure;
  return [
    `| measure | ${names.baseline} (median) | ${names.challenger} (median) | ratio, median of rounds | ratio, min – max | per round |`,
    "|---|---:|---:|---:|---|---|",
    ...rows.map(
      (row) =>
        `| ${label(row.measure)} | ${figure(row.baseline)} | ${figure(row.challenger)} | ` +
        `**${row.ratio.toFixed(2)}×** | ${row.min.toFixed(2)} – ${row.max.toFixed(2)} | ` +
        `${row.ratios.map((ratio) => ratio.toFixed(2)).join(", ")} |`,
    ),
  ].join("\n");
}
