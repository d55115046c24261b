import type { ConcreteRequest, Sampler } from "../sampler.js";
import { type CacheClass, classifyCacheStatus } from "./cache-status.js";
import { evaluateCheck } from "./checks.js";
import { type HttpClient, sendRequest } from "./http-client.js";
import type { Sample, TimedRequest } from "./stats.js";

/**
 * The open-model load generator: request i is issued at start + i / rate whatever happened to the
 * earlier ones (no coordinated omission). Latency is measured from the scheduled time, so a late
 * generator can only make the numbers worse; the lateness itself is recorded (schedulerLagMs) to show
 * the generator is not the bottleneck.
 */
export interface OpenLoopOptions {
  readonly client: HttpClient;
  readonly sampler: Sampler;
  readonly rate: number;
  readonly durationMs: number;
  /**
   * Checked before each arrival with the samples so far: true stops issuing (requests in flight still
   * complete). The capacity search stops a probe whose p95 is already certain to miss its SLO.
   */
  readonly shouldStop?: (samples: readonly Sample[]) => boolean;
  /** Called about once a second with what has happened so far. */
  readonly onProgress?: (progress: {
    elapsedMs: number;
    issued: number;
    completed: number;
    inFlight: number;
  }) => void;
}

export interface StaleRead {
  readonly write: string;
  readonly read: string;
  readonly detail: string;
}

export interface OpenLoopResult {
  readonly samples: Sample[];
  readonly schedulerLagMs: number[];
  readonly checks: { verified: number; stale: StaleRead[] };
  /**
   * The reads that verified writes, timed from when each was sent: traffic the load sent besides its
   * samples (the dashboard's counters include it).
   */
  readonly checkReads: TimedRequest[];
  readonly errors: string[];
  /** shouldStop ended the run before its last arrival. */
  stopped: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const result: OpenLoopResult = {
    samples: [],
    schedulerLagMs: [],
    checks: { verified: 0, stale: [] },
    checkReads: [],
    errors: [],
    stopped: false,
  };
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  const interval = 1000 / options.rate;
  let completed = 0;
  let lastProgress = start;
  // The count is fixed by rate x duration (compared as offsets: start + x - start is not always x).
  for (let i = 0; i * interval < options.durationMs; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    // At high rates the next arrival is always due: yield now and then so responses get read.
    else if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
    if (options.shouldStop?.(result.samples)) {
      result.stopped = true;
      break;
    }
    result.schedulerLagMs.push(Math.max(0, performance.now() - due));
    const request = options.sampler.next();
    const done = issue(options, request, due, result).finally(() => {
      completed++;
      inFlight.delete(done);
    });
    inFlight.add(done);
    if (options.onProgress && performance.now() - lastProgress >= 1000) {
      lastProgress = performance.now();
      options.onProgress({
        elapsedMs: lastProgress - start,
        issued: i + 1,
        completed,
        inFlight: inFlight.size,
      });
    }
  }
  await Promise.all(inFlight);
  return result;
}

async function issue(
  options: OpenLoopOptions,
  request: ConcreteRequest,
  due: number,
  result: OpenLoopResult,
): Promise<void> {
  let status = 0;
  let cache: CacheClass = "none";
  let body = "";
  try {
    const response = await sendRequest(options.client, request);
    status = response.status;
    body = response.body;
    cache = classifyCacheStatus(response.headers["cache-status"] as string | undefined);
  } catch (error) {
    result.errors.push(`${request.method} ${request.path}: ${(error as Error).message}`);
  }
  const failed = status === 0 || status >= 400;
  if (failed && status !== 0)
    result.errors.push(`${request.method} ${request.path}: HTTP ${status} ${body.slice(0, 200)}`);
  result.samples.push({
    name: request.name,
    endpoint: request.endpoint,
    method: request.method,
    path: request.path,
    status,
    latencyMs: performance.now() - due,
    cache,
    failed,
  });
  if (failed || request.endpoint !== "write") return;
  const written = parseJson(body);
  const id = (written as { id?: unknown } | undefined)?.id;
  await verify(options.client, request, written, result);
  // Only after the check: a cancellation must not race the read that checks the booking.
  if (request.template.gives && typeof id === "number") options.sampler.give(id);
}

/** The read-after-write check: issued as soon as the write's response arrived. */
async function verify(
  client: HttpClient,
  request: ConcreteRequest,
  written: unknown,
  result: OpenLoopResult,
): Promise<void> {
  const check = request.template.check;
  if (!check?.read) return;
  const path = check.read.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (m, name: string) =>
    name in request.values ? String(request.values[name]) : m,
  );
  try {
    const response = await client.send("GET", path);
    result.checkReads.push({
      method: "GET",
      path,
      status: response.status,
      latencyMs: response.latencyMs,
      cache: classifyCacheStatus(response.headers["cache-status"] as string | undefined),
      failed: response.status >= 400,
    });
    if (response.status >= 400) {
      result.errors.push(`check GET ${path}: HTTP ${response.status}`);
      return;
    }
    const outcome = evaluateCheck(check.kind, check.item, written, parseJson(response.body));
    if (outcome.verifiable) result.checks.verified++;
    if (outcome.stale)
      result.checks.stale.push({
        write: `${request.method} ${request.path}`,
        read: `GET ${path}`,
        detail: outcome.detail,
      });
  } catch (error) {
    result.errors.push(`check GET ${path}: ${(error as Error).message}`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
