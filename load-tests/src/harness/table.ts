import type { Verdict } from "./acceptance.js";
import type { Comparison, ScenarioComparison } from "./stats.js";

/** Markdown tables of a side-by-side run, and a parser for them (tests read the demo's output). Pure. */
export const TABLE_HEADER = [
  "endpoint",
  "requests (direct / sidecar)",
  "p50 direct",
  "p50 sidecar",
  "p95 direct",
  "p95 sidecar",
  "p95 improvement",
  "mean improvement",
  "hit ratio",
  "upstream requests saved",
] as const;

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

const formatPct = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)}%` : "–");

function row(c: Comparison, bold = false): string {
  const cells = [
    bold ? `**${c.label}**` : c.label,
    `${c.before.n} / ${c.after.n}`,
    formatMs(c.before.p50),
    formatMs(c.after.p50),
    formatMs(c.before.p95),
    formatMs(c.after.p95),
    formatPct(c.p95Improvement),
    formatPct(c.meanImprovement),
    formatPct(c.hitRatio * 100),
    `${c.upstreamSaved} of ${c.after.n}`,
  ];
  return `| ${cells.join(" | ")} |`;
}

export function renderComparison(result: ScenarioComparison): string {
  const lines = [
    `| ${TABLE_HEADER.join(" | ")} |`,
    `|${TABLE_HEADER.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...result.byEndpoint.map((c) => row(c)),
    row(result.reads, true),
  ];
  if (result.writes.before.n + result.writes.after.n > 0) lines.push(row(result.writes, true));
  lines.push(row(result.overall, true));
  return lines.join("\n");
}

export function renderVerdicts(verdicts: readonly Verdict[]): string {
  return [
    "| criterion | measured | |",
    "|---|---:|---|",
    ...verdicts.map(
      (v) =>
        `| ${v.criterion} | ${v.measured} | ${v.informational ? "info" : v.pass ? "pass" : "**FAIL**"} |`,
    ),
  ].join("\n");
}

export interface ParsedRow {
  readonly endpoint: string;
  readonly cells: Readonly<Record<(typeof TABLE_HEADER)[number], string>>;
  readonly p95Improvement: number;
  readonly hitRatio: number;
}

/** Reads the first comparison table found in text (markdown, as printed). */
export function parseComparisonTable(text: string): ParsedRow[] {
  const lines = text.split("\n").map((l) => l.trim());
  const start = lines.findIndex((l) => l.startsWith(`| ${TABLE_HEADER[0]} | ${TABLE_HEADER[1]} |`));
  if (start < 0) return [];
  const rows: ParsedRow[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const values = line
      .slice(1, -1)
      .split("|")
      .map((c) => c.trim());
    if (values.length !== TABLE_HEADER.length) break;
    const cells = Object.fromEntries(
      TABLE_HEADER.map((h, i) => [h, values[i] as string]),
    ) as ParsedRow["cells"];
    rows.push({
      endpoint: cells.endpoint.replace(/\*\*/g, ""),
      cells,
      p95Improvement: Number.parseFloat(cells["p95 improvement"]),
      hitRatio: Number.parseFloat(cells["hit ratio"]) / 100,
    });
  }
  return rows;
}
