import { Writable } from "node:stream";
import { request } from "undici";
import { type Sidecar, type StartSidecarOptions, startSidecar } from "../../src/index.js";
import { createLogger } from "../../src/telemetry/logger.js";

/** Helpers shared by the sidecar's integration tests. */

export function policyText(spec: Record<string, unknown>, name = "test-api"): string {
  return JSON.stringify({
    apiVersion: "apicache.io/v1alpha1",
    kind: "CachePolicy",
    metadata: { name, namespace: "test" },
    spec: { selector: { matchLabels: { app: name } }, upstream: { port: 8080 }, ...spec },
  });
}

/** A clock tests move by hand: TTL behaviour without sleeping. */
export function manualClock(start = Date.parse("2026-01-01T00:00:00Z")) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** Captures the sidecar's JSON log lines. */
export function captureLogs(level: "info" | "debug" = "info") {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger(level, stream) };
}

export async function startTestSidecar(
  options: Omit<StartSidecarOptions, "policy" | "logger"> & {
    spec: Record<string, unknown>;
    logger?: StartSidecarOptions["logger"];
  },
): Promise<Sidecar> {
  const { spec, ...rest } = options;
  return startSidecar({ logger: captureLogs().logger, warm: false, ...rest, policy: policyText(spec) });
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly cacheStatus: string;
}

export async function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const response = await request(`${base}${path}`, {
    method: (options.method ?? "GET") as "GET",
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const body = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body,
    cacheStatus: String(response.headers["cache-status"] ?? ""),
  };
}

/** Polls `check` until it returns true or the deadline passes (never a fixed sleep). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A histogram's observation count (its `_count` series), summed over the series matching `labels`. */
export async function histogramCount(sidecar: Sidecar, name: string, labels: Record<string, string> = {}) {
  const metric = (await sidecar.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as {
    metricName?: string;
    labels: Record<string, string | number>;
    value: number;
  }[];
  return values
    .filter((v) => v.metricName === `${name}_count`)
    .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
    .reduce((sum, v) => sum + v.value, 0);
}

export async function metricValue(
  sidecar: Sidecar,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await sidecar.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!metric) return 0;
  return (metric.values as { labels: Record<string, string | number>; value: number }[])
    .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
    .reduce((sum, v) => sum + v.value, 0);
}
