/**
 * A V8 `.cpuprofile` (what `node --cpu-prof` writes), pure: folded stacks ("a;b;c count", the format
 * flame graph tools read) and the functions with the most self time. No I/O: the bench reads the file.
 *
 * A profile is a call tree (`nodes`, each with its call frame and children) plus `samples`: the id
 * of the node on top of the stack at each tick (`timeDeltas` apart). Self time of a node = its samples.
 */

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber?: number;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  /** Microseconds between samples, the first counted from `startTime`. */
  readonly timeDeltas?: readonly number[];
  /** Microseconds on the monotonic clock (`process.hrtime`'s, on Linux). */
  readonly startTime?: number;
  readonly endTime?: number;
}

/** V8's pseudo frames: not code of ours or node's, reported as they are. */
const PSEUDO = new Set(["(root)", "(program)", "(idle)", "(garbage collector)"]);

/** Where a script lives, shortened: `sidecar/dist/proxy/handler.js`, `node:_http_server`, `pino/lib/…`. */
export function shortUrl(url: string): string {
  if (url === "") return "";
  if (url.startsWith("node:")) return url;
  const path = url.replace(/^file:\/\//, "");
  const modules = path.lastIndexOf("/node_modules/");
  if (modules >= 0) return path.slice(modules + "/node_modules/".length);
  const workspace = path.match(/\/((?:sidecar|crds|testkit|load-tests|operator)\/.*)$/);
  return workspace?.[1] ?? path;
}

/** One frame's label: `name file:line` (1-based line), or the pseudo frame's own name. */
export function frameLabel(frame: CallFrame): string {
  if (PSEUDO.has(frame.functionName) && frame.url === "") return frame.functionName;
  const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
  const url = shortUrl(frame.url);
  return url === "" ? name : `${name} ${url}:${frame.lineNumber + 1}`;
}

/** A span of the monotonic clock in microseconds (`process.hrtime.bigint() / 1000n`). */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

/**
 * Samples per node id: from `samples` when present (exact; only those taken within `window` when one
 * is given and the profile has timestamps), else each node's `hitCount`.
 */
function selfSamples(profile: CpuProfile, window?: Window): Map<number, number> {
  const counts = new Map<number, number>();
  if (profile.samples && profile.samples.length > 0) {
    const deltas = window && profile.startTime !== undefined ? profile.timeDeltas : undefined;
    let at = profile.startTime ?? 0;
    profile.samples.forEach((id, index) => {
      if (deltas && window) {
        at += deltas[index] ?? 0;
        if (at < window.fromUs || at > window.toUs) return;
      }
      counts.set(id, (counts.get(id) ?? 0) + 1);
    });
  } else {
    for (const node of profile.nodes) if (node.hitCount) counts.set(node.id, node.hitCount);
  }
  return counts;
}

/** The stack of labels from below the root to each node (the root itself left out). */
function stacks(profile: CpuProfile): Map<number, readonly string[]> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const out = new Map<number, readonly string[]>();
  const stackOf = (id: number): readonly string[] => {
    const known = out.get(id);
    if (known) return known;
    const node = byId.get(id);
    if (!node) return [];
    const up = parent.get(id);
    const below = up === undefined ? [] : stackOf(up);
    const own = node.callFrame.functionName === "(root)" ? below : [...below, frameLabel(node.callFrame)];
    out.set(id, own);
    return own;
  };
  for (const node of profile.nodes) stackOf(node.id);
  return out;
}

/**
 * Folded stacks: `frame;frame;frame` → samples, heaviest first. `(idle)` is left out unless asked;
 * `window`: only the samples taken within it (e.g. the load, not the process's start).
 */
export function foldStacks(
  profile: CpuProfile,
  options: { readonly idle?: boolean; readonly window?: Window } = {},
): Map<string, number> {
  const all = stacks(profile);
  const folded = new Map<string, number>();
  for (const [id, count] of selfSamples(profile, options.window)) {
    const stack = all.get(id) ?? [];
    if (!options.idle && stack.length === 1 && stack[0] === "(idle)") continue;
    const line = stack.join(";");
    folded.set(line, (folded.get(line) ?? 0) + count);
  }
  return new Map([...folded].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** The folded stacks as text, one `stack count` a line (flamegraph.pl, speedscope and others read it). */
export function formatFolded(folded: ReadonlyMap<string, number>): string {
  return `${[...folded].map(([stack, count]) => `${stack} ${count}`).join("\n")}\n`;
}

export interface SelfTime {
  readonly frame: string;
  readonly samples: number;
  /** Share of the busy samples (every sample but `(idle)`). */
  readonly share: number;
}

/** Functions by self time over the busy samples (same label = same function), heaviest first. */
export function topSelf(folded: ReadonlyMap<string, number>, limit = 20): SelfTime[] {
  const byFrame = new Map<string, number>();
  let busy = 0;
  for (const [stack, count] of folded) {
    const leaf = stack.slice(stack.lastIndexOf(";") + 1);
    if (leaf === "(idle)") continue;
    busy += count;
    byFrame.set(leaf, (byFrame.get(leaf) ?? 0) + count);
  }
  return [...byFrame]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([frame, samples]) => ({ frame, samples, share: busy === 0 ? 0 : samples / busy }));
}

/**
 * Busy samples by where the leaf (the function on top of the stack) lives: our code by directory
 * (`sidecar/proxy`), else its package or node module; pseudo frames stand for themselves.
 */
export function selfByArea(folded: ReadonlyMap<string, number>): SelfTime[] {
  const byArea = new Map<string, number>();
  let busy = 0;
  for (const [stack, count] of folded) {
    const frames = stack.split(";");
    const leaf = frames[frames.length - 1] ?? "";
    if (leaf === "(idle)") continue;
    busy += count;
    const area = areaOf(leaf);
    byArea.set(area, (byArea.get(area) ?? 0) + count);
  }
  return [...byArea]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([frame, samples]) => ({ frame, samples, share: busy === 0 ? 0 : samples / busy }));
}

/** The area of one frame label: `sidecar/proxy`, `node:_http_outgoing`, `pino`, `(garbage collector)`. */
export function areaOf(label: string): string {
  if (PSEUDO.has(label)) return label;
  const space = label.lastIndexOf(" ");
  if (space < 0) return "(native)";
  const where = label.slice(space + 1).replace(/:\d+$/, "");
  const ours = where.match(/^sidecar\/(?:dist|src)\/([^/]+)\//);
  if (ours) return `sidecar/${ours[1]}`;
  if (where.startsWith("node:")) return where;
  const pkg = where.match(/^(@[^/]+\/[^/]+|[^/]+)\//);
  return pkg?.[1] ?? where;
}
