import { readFileSync } from "node:fs";

/**
 * Summaries of the operator's V8 profiles (`node --cpu-prof` / `--heap-prof`), for the findings:
 * CPU time by function (self and inclusive) and by area (operator module, npm package, Node
 * internals, GC), optionally within time windows (the benchmark's phases); live heap at exit by
 * allocating function. Profile timestamps are CLOCK_MONOTONIC microseconds, the clock behind
 * `process.hrtime` in the benchmark, so phases recorded there slice the operator's profile.
 */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface CpuNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly CpuNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Window {
  readonly name: string;
  /** CLOCK_MONOTONIC microseconds. */
  readonly startUs: number;
  readonly endUs: number;
}

/** A key and its amount: milliseconds of CPU, or MiB of heap. */
export interface Ranked {
  readonly key: string;
  readonly value: number;
}

/** "operator/kube/controller.js", "@kubernetes/client-node", "node:_tls_wrap", "(garbage collector)". */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const dist = /\/operator\/dist\/(.*)$/.exec(url) ?? /\/crds\/dist\/(.*)$/.exec(url);
  if (dist?.[1]) return `${url.includes("/crds/") ? "crds" : "operator"}/${dist[1]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  return url;
}

/** Where in an area: the file inside a package ("@kubernetes/client-node/dist/cache.js"), or the area. */
function fileOf(url: string, functionName: string): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+\/.*)$/.exec(url);
  return inPackage?.[1] ?? areaOf(url, functionName);
}

function label(frame: CallFrame): string {
  const file = fileOf(frame.url, frame.functionName);
  const name = frame.functionName || "(anonymous)";
  return file === name ? name : `${name} ${file}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, n: number, divisor: number): Ranked[] {
  return [...map.entries()]
    .sort(([, a], [, b]) => b - a)
    .slice(0, n)
    .map(([key, amount]) => ({ key, value: amount / divisor }));
}

export interface CpuSummary {
  readonly window: string;
  readonly totalMs: number;
  readonly idleMs: number;
  readonly bySelf: readonly Ranked[];
  readonly byInclusive: readonly Ranked[];
  readonly byArea: readonly Ranked[];
}

interface Indexed {
  readonly profile: CpuProfile;
  readonly byId: Map<number, CpuNode>;
  readonly parent: Map<number, number>;
  /** When each sample was taken; sample i stands for the time until sample i + 1. */
  readonly times: readonly number[];
}

function index(profile: CpuProfile): Indexed {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const times: number[] = [];
  let at = profile.startTime;
  for (const delta of profile.timeDeltas) {
    at += delta;
    times.push(at);
  }
  return { profile, byId, parent, times };
}

/** Microseconds of samples per node id within the window. */
function selfTimes(indexed: Indexed, window: Window): Map<number, number> {
  const self = new Map<number, number>();
  const { profile, times } = indexed;
  for (let i = 0; i < profile.samples.length; i++) {
    const t = times[i] as number;
    if (t < window.startUs || t >= window.endUs) continue;
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + ((times[i + 1] ?? t) - t));
  }
  return self;
}

const add = (map: Map<string, number>, key: string, amount: number) =>
  map.set(key, (map.get(key) ?? 0) + amount);

function summarizeWindow(indexed: Indexed, window: Window, n: number): CpuSummary {
  const bySelf = new Map<string, number>();
  const byInclusive = new Map<string, number>();
  const byArea = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfTimes(indexed, window)) {
    const frame = (indexed.byId.get(id) as CpuNode).callFrame;
    totalUs += us;
    if (frame.functionName === "(idle)") idleUs += us;
    add(bySelf, label(frame), us);
    add(byArea, areaOf(frame.url, frame.functionName), us);
    // Inclusive: every distinct function on the sample's stack (recursion counted once).
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = indexed.parent.get(node)) {
      seen.add(label((indexed.byId.get(node) as CpuNode).callFrame));
    }
    for (const key of seen) add(byInclusive, key, us);
  }
  for (const skip of ["(root)", "(idle)", "(program)"]) byInclusive.delete(skip);
  return {
    window: window.name,
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    bySelf: top(bySelf, n, 1000),
    byInclusive: top(byInclusive, n, 1000),
    byArea: top(byArea, n, 1000),
  };
}

/** One summary per window (the whole profile when none is given). */
export function summarizeCpuProfile(path: string, windows: readonly Window[] = [], n = 15): CpuSummary[] {
  const indexed = index(JSON.parse(readFileSync(path, "utf8")) as CpuProfile);
  const all: Window = {
    name: "whole run",
    startUs: indexed.profile.startTime,
    endUs: indexed.times.at(-1) ?? indexed.profile.startTime,
  };
  return [all, ...windows].map((window) => summarizeWindow(indexed, window, n));
}

interface HeapNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

/** Live heap at exit (sampled) by allocating function and by area, in MiB. */
export function summarizeHeapProfile(path: string, n = 15): { byFunction: Ranked[]; byArea: Ranked[] } {
  const profile = JSON.parse(readFileSync(path, "utf8")) as { head: HeapNode };
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  const visit = (node: HeapNode) => {
    if (node.selfSize > 0) {
      const key = label(node.callFrame);
      byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
      const area = areaOf(node.callFrame.url, node.callFrame.functionName);
      byArea.set(area, (byArea.get(area) ?? 0) + node.selfSize);
    }
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  return { byFunction: top(byFunction, n, 1024 * 1024), byArea: top(byArea, n, 1024 * 1024) };
}

export function formatCpuSummary(summary: CpuSummary): string {
  const rows = (ranked: readonly Ranked[]) =>
    ranked.map((r) => `    ${r.value.toFixed(0).padStart(7)} ms  ${r.key}`).join("\n");
  return [
    `  CPU profile, ${summary.window}: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${(summary.idleMs / 1000).toFixed(1)} s idle`,
    "   by area (self):",
    rows(summary.byArea),
    "   by function (self):",
    rows(summary.bySelf),
    "   by function (inclusive):",
    rows(summary.byInclusive),
  ].join("\n");
}

export function formatHeapSummary(summary: { byFunction: Ranked[]; byArea: Ranked[] }): string {
  const rows = (ranked: readonly Ranked[]) =>
    ranked.map((r) => `    ${r.value.toFixed(1).padStart(7)} MiB  ${r.key}`).join("\n");
  return [
    "  Heap profile (sampled live objects at exit)",
    "   by area:",
    rows(summary.byArea),
    "   by allocating function:",
    rows(summary.byFunction),
  ].join("\n");
}
