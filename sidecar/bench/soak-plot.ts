/**
 * The soak's plot, pure: samples and fault marks in, a self-contained SVG out (no script, no external
 * font or style). Three panels sharing the time axis: memory (RSS and its anonymous part, heap used, L1 bytes, MiB, with the
 * RSS bound), descriptors and sockets, event-loop delay p99 (with its bound); the warm-up shaded and
 * every fault a dashed vertical line labelled with its kind.
 */
import type { FaultMark, SoakSample } from "./soak-verdict.js";

const MiB = 1024 * 1024;
const WIDTH = 960;
const PANEL_HEIGHT = 180;
const GAP = 46;
const LEFT = 64;
const RIGHT = 150;
const TOP = 52;

export interface PlotInput {
  readonly title: string;
  readonly samples: readonly SoakSample[];
  readonly faults: readonly FaultMark[];
  readonly runMs: number;
  readonly warmUpEndMs: number;
  readonly rssBoundMiB: number;
  readonly loopBoundMs: number;
}

interface Series {
  readonly label: string;
  readonly color: string;
  readonly pick: (s: SoakSample) => number;
}

interface Panel {
  readonly title: string;
  readonly series: readonly Series[];
  /** A horizontal bound line, if any. */
  readonly bound?: { readonly value: number; readonly label: string };
}

const xmlText = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

const fixed = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** A round step for about four gridlines up to `top`. */
function niceStep(top: number): number {
  const raw = top / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= raw) as number) || 1;
}

function renderPanel(panel: Panel, input: PlotInput, top: number): string[] {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const values = panel.series.flatMap((series) => input.samples.map(series.pick));
  const highest = Math.max(1, ...values, (panel.bound?.value ?? 0) * 1.05);
  const step = niceStep(highest);
  const yMax = Math.ceil(highest / step) * step;
  const x = (ms: number) => LEFT + (Math.min(ms, input.runMs) / Math.max(1, input.runMs)) * plotWidth;
  const y = (v: number) => top + PANEL_HEIGHT - (v / yMax) * PANEL_HEIGHT;
  const out = [
    `<text x="${LEFT}" y="${top - 8}" class="title">${xmlText(panel.title)}</text>`,
    `<rect x="${LEFT}" y="${top}" width="${fixed(x(input.warmUpEndMs) - LEFT)}" height="${PANEL_HEIGHT}" class="warmup"/>`,
  ];
  for (let v = 0; v <= yMax + step / 2; v += step) {
    out.push(
      `<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${fixed(y(v))}" y2="${fixed(y(v))}" class="grid"/>`,
    );
    out.push(
      `<text x="${LEFT - 6}" y="${fixed(y(v) + 4)}" class="tick" text-anchor="end">${fixed(v)}</text>`,
    );
  }
  if (panel.bound) {
    const by = fixed(y(panel.bound.value));
    out.push(`<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${by}" y2="${by}" class="bound"/>`);
    out.push(`<text x="${LEFT + plotWidth + 6}" y="${by}" class="tick">${xmlText(panel.bound.label)}</text>`);
  }
  for (const fault of input.faults)
    out.push(
      `<line x1="${fixed(x(fault.at))}" x2="${fixed(x(fault.at))}" y1="${top}" y2="${top + PANEL_HEIGHT}" class="fault"/>`,
    );
  panel.series.forEach((series, i) => {
    const points = input.samples.map((s) => `${fixed(x(s.at))},${fixed(y(series.pick(s)))}`).join(" ");
    out.push(`<polyline points="${points}" fill="none" stroke="${series.color}" stroke-width="1.5"/>`);
    const ly = top + 14 + i * 16;
    out.push(
      `<line x1="${LEFT + plotWidth + 6}" x2="${LEFT + plotWidth + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${series.color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${LEFT + plotWidth + 26}" y="${ly}" class="tick">${xmlText(series.label)}</text>`);
  });
  out.push(`<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" class="frame"/>`);
  return out;
}

function timeAxis(input: PlotInput, top: number): string[] {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const minutes = input.runMs / 60_000;
  const step = niceStep(Math.max(minutes, 1));
  const out: string[] = [];
  for (let m = 0; m <= minutes + 1e-9; m += step) {
    const x = fixed(LEFT + (m / Math.max(minutes, 1e-9)) * plotWidth);
    out.push(`<text x="${x}" y="${top + 14}" class="tick" text-anchor="middle">${fixed(m)}</text>`);
  }
  out.push(
    `<text x="${LEFT + plotWidth / 2}" y="${top + 30}" class="tick" text-anchor="middle">minutes since start (shaded: warm-up; dashed: faults)</text>`,
  );
  input.faults.forEach((fault, i) => {
    const x = fixed(LEFT + (fault.at / Math.max(1, input.runMs)) * plotWidth);
    out.push(
      `<text x="${x}" y="${top + 44 + (i % 2) * 12}" class="fault-label" text-anchor="middle">${xmlText(fault.kind)}</text>`,
    );
  });
  return out;
}

export function renderSoakSvg(input: PlotInput): string {
  const panels: Panel[] = [
    {
      title: "memory (MiB)",
      series: [
        { label: "RSS", color: "#1f77b4", pick: (s) => s.rssBytes / MiB },
        { label: "RSS anonymous", color: "#17becf", pick: (s) => s.rssAnonBytes / MiB },
        { label: "heap used", color: "#ff7f0e", pick: (s) => s.heapUsedBytes / MiB },
        { label: "L1 bytes", color: "#2ca02c", pick: (s) => s.l1Bytes / MiB },
      ],
      bound: { value: input.rssBoundMiB, label: `RSS bound ${fixed(input.rssBoundMiB)}` },
    },
    {
      title: "open descriptors",
      series: [
        { label: "descriptors", color: "#9467bd", pick: (s) => s.fds },
        { label: "sockets", color: "#8c564b", pick: (s) => s.sockets },
      ],
    },
    {
      title: "event-loop delay p99 per sample (ms)",
      series: [{ label: "p99", color: "#d62728", pick: (s) => s.loopP99Ms }],
      bound: { value: input.loopBoundMs, label: `bound ${fixed(input.loopBoundMs)} ms` },
    },
  ];
  const axisTop = TOP + panels.length * (PANEL_HEIGHT + GAP) - GAP;
  const height = axisTop + 70;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" role="img">`,
    // The plot's name for screen readers (and Biome's a11y rule: make lint reads load-tests/soak.svg).
    `<title>${xmlText(input.title)}</title>`,
    "<style>.title{font-size:13px;font-weight:bold}.tick{font-size:11px;fill:#333}.fault-label{font-size:10px;fill:#a00}" +
      ".grid{stroke:#ddd}.frame{fill:none;stroke:#888}.bound{stroke:#000;stroke-dasharray:2 3}" +
      ".fault{stroke:#a00;stroke-dasharray:4 3}.warmup{fill:#f0f0f0}</style>",
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="18" class="title">${xmlText(input.title)}</text>`,
    ...panels.flatMap((panel, i) => renderPanel(panel, input, TOP + i * (PANEL_HEIGHT + GAP))),
    ...timeAxis(input, axisTop),
    "</svg>",
    "",
  ].join("\n");
}
