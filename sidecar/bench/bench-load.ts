/**
 * Load for the sidecar benchmarks: bounded autocannon runs with per-response latencies, rounds combined
 * into one sample, and the probe that records what the sidecar says it did (Cache-Status).
 */
import { type Agent, request } from "node:http";
import autocannon from "autocannon";
import { type LoadSample, percentile } from "./bench-report.js";

export interface RawRun {
  readonly rps: number;
  readonly latencies: Float64Array;
  readonly requests: number;
  readonly failures: number;
}

export interface LoadOptions {
  /** One URL, or several: connection i goes to `url[i % url.length]` (autocannon's spread). */
  readonly url: string | readonly string[];
  readonly connections: number;
  readonly durationSeconds: number;
  /** Sent with every request, e.g. one `host` for every replica (the Host header is part of the key). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Requests per second over all connections (autocannon's overallRate); unset: as fast as answered. */
  readonly overallRate?: number;
}

/** One bounded autocannon run; latencies are collected per response with sub-millisecond precision. */
export function load(options: LoadOptions): Promise<RawRun> {
  const latencies: number[] = [];
  const { connections, durationSeconds } = options;
  // autocannon takes an array of URLs (lib/run.js: connection i uses url[i % length]); its types say string.
  const url = (typeof options.url === "string" ? options.url : [...options.url]) as string;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: durationSeconds,
        pipelining: 1,
        ...(options.headers ? { headers: { ...options.headers } } : {}),
        ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          rps: result.requests.total / (result.duration || durationSeconds),
          latencies: Float64Array.from(latencies),
          requests: result.requests.total,
          failures: result.non2xx + result.errors + result.timeouts,
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/** Median req/s over the rounds; percentiles over every response of every round. */
export function combine(runs: readonly RawRun[]): LoadSample {
  const rates = runs.map((run) => run.rps).sort((a, b) => a - b);
  const all = new Float64Array(runs.reduce((sum, run) => sum + run.latencies.length, 0));
  let offset = 0;
  for (const run of runs) {
    all.set(run.latencies, offset);
    offset += run.latencies.length;
  }
  all.sort();
  return {
    rps: rates[Math.floor((rates.length - 1) / 2)] ?? Number.NaN,
    p50Ms: percentile(all, 0.5),
    p99Ms: percentile(all, 0.99),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
  };
}

/** One request (a GET unless told) with node:http (fetch may not send a `host` header of our choosing): status, Cache-Status, body. */
export function sendRequest(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  options: { readonly agent?: Agent; readonly method?: string } = {},
): Promise<{ status: number; cacheStatus: string; body: string }> {
  return new Promise((resolve, reject) => {
    const init = { headers: { ...headers }, method: options.method ?? "GET", agent: options.agent };
    const req = request(url, init, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          cacheStatus: String(res.headers["cache-status"] ?? "(none)"),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** Two probe requests (the first may fill the cache); the second's Cache-Status says what the sidecar did. */
export async function probe(url: string, headers: Readonly<Record<string, string>> = {}): Promise<string> {
  let status = "";
  for (let i = 0; i < 2; i++) {
    const response = await sendRequest(url, headers);
    if (response.status < 200 || response.status >= 300)
      throw new Error(`${url} answered ${response.status}`);
    status = response.cacheStatus;
  }
  return status;
}
