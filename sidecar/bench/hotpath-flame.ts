/**
 * A flame graph, pure: folded stacks in (hotpath-profile.ts), a self-contained SVG out (no script, no
 * external font). Roots at the bottom; each frame as wide as its samples; hover shows the frame, its
 * samples and share (an SVG <title>). Colours by where the frame lives: our code warm, node's own
 * modules green, packages blue, V8's pseudo frames grey.
 */
import { areaOf } from "./hotpath-profile.js";

const WIDTH = 1200;
const ROW = 17;
const TOP = 40;
const BOTTOM = 24;
const SIDE = 10;
const CHAR = 6.2;

interface Frame {
  readonly name: string;
  samples: number;
  readonly children: Map<string, Frame>;
}

export interface FlameOptions {
  readonly title: string;
  readonly subtitle?: string;
  /** Frames narrower than this many pixels are left out (with their children). */
  readonly minWidth?: number;
}

const xmlText = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

/** The folded stacks as one tree under an "all" root. */
export function stackTree(folded: ReadonlyMap<string, number>): Frame {
  const root: Frame = { name: "all", samples: 0, children: new Map() };
  for (const [stack, count] of folded) {
    root.samples += count;
    let at = root;
    for (const name of stack.split(";")) {
      let next = at.children.get(name);
      if (!next) {
        next = { name, samples: 0, children: new Map() };
        at.children.set(name, next);
      }
      next.samples += count;
      at = next;
    }
  }
  return root;
}

/** A stable colour per frame: the hue by area, the shade by name. */
export function frameColor(name: string): string {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  const jitter = hash % 30;
  const area = areaOf(name);
  if (area.startsWith("sidecar/")) return `hsl(${20 + jitter}, 85%, ${55 + (hash % 10)}%)`;
  if (area.startsWith("node:")) return `hsl(${95 + jitter}, 45%, ${55 + (hash % 10)}%)`;
  if (area.startsWith("(")) return `hsl(0, 0%, ${70 + (hash % 10)}%)`;
  return `hsl(${200 + jitter}, 55%, ${62 + (hash % 10)}%)`;
}

function depth(frame: Frame): number {
  let most = 0;
  for (const child of frame.children.values()) most = Math.max(most, depth(child));
  return most + 1;
}

export function flameSvg(folded: ReadonlyMap<string, number>, options: FlameOptions): string {
  const root = stackTree(folded);
  const minWidth = options.minWidth ?? 0.3;
  const levels = depth(root);
  const height = TOP + levels * ROW + BOTTOM;
  const scale = root.samples === 0 ? 0 : (WIDTH - 2 * SIDE) / root.samples;
  const rects: string[] = [];
  const draw = (frame: Frame, x: number, level: number) => {
    const width = frame.samples * scale;
    if (width < minWidth) return;
    const y = height - BOTTOM - (level + 1) * ROW;
    const share = root.samples === 0 ? 0 : (100 * frame.samples) / root.samples;
    const tip = `${frame.name} (${frame.samples} samples, ${share.toFixed(2)}%)`;
    const chars = Math.floor((width - 6) / CHAR);
    const label =
      chars < 3 ? "" : frame.name.length <= chars ? frame.name : `${frame.name.slice(0, chars - 2)}..`;
    rects.push(
      `<g><title>${xmlText(tip)}</title><rect x="${x.toFixed(2)}" y="${y}" width="${width.toFixed(2)}" height="${ROW - 1}" fill="${frameColor(frame.name)}" rx="2"/>` +
        (label ? `<text x="${(x + 3).toFixed(2)}" y="${y + ROW - 5}">${xmlText(label)}</text>` : "") +
        "</g>",
    );
    let childX = x;
    for (const child of [...frame.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      draw(child, childX, level + 1);
      childX += child.samples * scale;
    }
  };
  draw(root, SIDE, 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">`,
    `<title>${xmlText(options.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fdfdf8"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="15">${xmlText(options.title)}</text>`,
    options.subtitle
      ? `<text x="${WIDTH / 2}" y="33" text-anchor="middle" fill="#555">${xmlText(options.subtitle)}</text>`
      : "",
    ...rects,
    `<text x="${SIDE}" y="${height - 7}" fill="#555">${root.samples} samples; width = share of busy samples; hover a frame for its count. Warm: sidecar code, green: node internals, blue: packages, grey: V8.</text>`,
    "</svg>",
    "",
  ].join("\n");
}
