/**
 * One sample of the soaked sidecar: RSS, open descriptors and sockets from /proc/<pid>/ (the kernel's
 * view), heap used, event-loop delay and L1 bytes from the sidecar's own /metrics (prom-client's
 * default metrics, on in the CLI). The parsing is pure (soak-sampler.test.ts); `sampleSidecar` reads.
 */
import { readdir, readFile, readlink } from "node:fs/promises";
import { sumMetric } from "./multi-report.js";
import type { SoakSample } from "./soak-verdict.js";

/**
 * prom-client samples the event-loop delay with `monitorEventLoopDelay({ resolution: 10 })` and Node
 * records each whole interval between two timer callbacks, so an idle process reports ≈ 10.1 ms: the
 * delay is what exceeds the 10 ms interval (ADR 0023).
 */
export const LOOP_RESOLUTION_MS = 10;

/** VmRSS and RssAnon of /proc/<pid>/status, in bytes. */
export function parseStatus(status: string): { rssBytes: number; rssAnonBytes: number } {
  const kB = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
    if (!match) throw new Error(`no ${field} line in /proc/<pid>/status (has the process exited?)`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kB("VmRSS"), rssAnonBytes: kB("RssAnon") };
}

export interface MetricFigures {
  readonly heapUsedBytes: number;
  readonly loopP99Ms: number;
  readonly l1Bytes: number;
  readonly reloadsOk: number;
}

export function parseMetrics(text: string): MetricFigures {
  const one = (name: string) => {
    if (!new RegExp(`^${name}[ {]`, "m").test(text)) throw new Error(`/metrics has no ${name}`);
    return sumMetric(text, name).total;
  };
  const p99 = one("nodejs_eventloop_lag_p99_seconds") * 1000;
  return {
    heapUsedBytes: one("nodejs_heap_size_used_bytes"),
    loopP99Ms: Math.max(0, p99 - LOOP_RESOLUTION_MS),
    l1Bytes: one("apicache_l1_bytes"),
    reloadsOk: sumMetric(text, "apicache_config_reloads_total", { result: ["success"] }).matching,
  };
}

/** How many of a process's descriptors are sockets, from their /proc/<pid>/fd link targets. */
export function countSockets(links: readonly string[]): number {
  return links.filter((link) => link.startsWith("socket:")).length;
}

export async function scrapeMetrics(adminUrl: string): Promise<MetricFigures> {
  const response = await fetch(`${adminUrl}/metrics`);
  if (!response.ok) throw new Error(`${adminUrl}/metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** One sample; `at` is milliseconds since `runStart`. */
export async function sampleSidecar(
  pid: number,
  adminUrl: string,
  runStart: number,
): Promise<SoakSample & { readonly reloadsOk: number }> {
  const [status, names] = await Promise.all([
    readFile(`/proc/${pid}/status`, "utf8"),
    readdir(`/proc/${pid}/fd`),
  ]);
  // A descriptor closed between readdir and readlink is simply not counted as a socket.
  const links = await Promise.all(names.map((name) => readlink(`/proc/${pid}/fd/${name}`).catch(() => "")));
  // After /proc: the scrape's own connection is then counted the same way in every sample (kept alive).
  const metrics = await scrapeMetrics(adminUrl);
  return {
    at: Date.now() - runStart,
    ...parseStatus(status),
    fds: names.length,
    sockets: countSockets(links),
    ...metrics,
  };
}
