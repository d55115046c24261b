import { request } from "undici";
import { type Handler, startUpstream, type TestUpstream } from "./upstream-app.js";

/**
 * A steady stream of reads and writes of versioned items through one or more sidecars, checking
 * every answer as it arrives: each must be 2xx, and a read must never show an item older than the
 * newest write of it whose response came back before the read was sent (read-your-writes across
 * the whole fleet). The upstream (`versionedUpstream`) keeps the versions: GET /items/:id answers
 * `{id, version}`, PUT /items/:id increments it and answers the new version.
 */
export interface VersionedUpstream {
  readonly upstream: TestUpstream;
  readonly versions: Map<string, number>;
}

export function versionedUpstream(): Promise<VersionedUpstream> {
  const versions = new Map<string, number>();
  const handle: Handler = (req, res) => {
    const id = /^\/items\/([^/?]+)/.exec(req.url ?? "")?.[1] ?? "";
    if (req.method === "PUT") versions.set(id, (versions.get(id) ?? 0) + 1);
    const body = JSON.stringify({ id, version: versions.get(id) ?? 0 });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  return startUpstream(handle).then((upstream) => ({ upstream, versions }));
}

export interface LoadOptions {
  /** Base URLs of the sidecars; requests go round-robin over them. */
  readonly targets: readonly string[];
  /** Items /items/0 … /items/(items-1). */
  readonly items: number;
  /** One request in `writeEvery` is a PUT. */
  readonly writeEvery: number;
  /** Requests in flight at once (a closed loop). */
  readonly concurrency: number;
  readonly headers?: Record<string, string>;
}

export interface LoadReport {
  readonly requests: number;
  readonly reads: number;
  readonly writes: number;
  /** Reads answered from the store (`Cache-Status: …; hit`, not a coalesced wait for another fetch). */
  readonly hits: number;
  /** Non-2xx answers and request errors, described. */
  readonly failures: readonly string[];
  /** Reads that showed a version older than a write completed before they were sent. */
  readonly stale: readonly string[];
  readonly elapsedMs: number;
}

export interface SteadyLoad {
  /** The counts so far. */
  report(): LoadReport;
  /** Stops sending; resolves with the final report once every request in flight has answered. */
  stop(): Promise<LoadReport>;
}

export function startSteadyLoad(options: LoadOptions): SteadyLoad {
  const committed = new Map<string, number>();
  const counts = { requests: 0, reads: 0, writes: 0, hits: 0 };
  const failures: string[] = [];
  const stale: string[] = [];
  const started = performance.now();
  let sent = 0;
  let running = true;

  /** Request `n`: which item, through which sidecar, read or write. */
  const plan = (n: number) => {
    const write = n % options.writeEvery === options.writeEvery - 1;
    // Reads go round the items; writes go round them on their own count, so every item is written
    // (once per `items` writes), and an item written once is then read many times before its next write.
    const item = write
      ? ((n - options.writeEvery + 1) / options.writeEvery) % options.items
      : n % options.items;
    const target = options.targets[n % options.targets.length] ?? "";
    return { write, id: String(item), target, what: `${write ? "PUT" : "GET"} /items/${item} via ${target}` };
  };
  const judge = (
    step: ReturnType<typeof plan>,
    floor: number,
    answer: { status: number; cacheStatus: string; text: string },
  ) => {
    if (answer.status < 200 || answer.status > 299) {
      failures.push(`${step.what}: ${answer.status} ${answer.text}`);
      return;
    }
    const version = (JSON.parse(answer.text) as { version: number }).version;
    if (step.write) {
      counts.writes++;
      committed.set(step.id, Math.max(committed.get(step.id) ?? 0, version));
      return;
    }
    counts.reads++;
    if (/;\s*hit/.test(answer.cacheStatus) && !answer.cacheStatus.includes("coalesced")) counts.hits++;
    if (version < floor) stale.push(`${step.what}: version ${version} after ${floor} was written`);
  };
  const one = async (): Promise<void> => {
    const step = plan(sent++);
    const floor = committed.get(step.id) ?? 0;
    try {
      const response = await request(`${step.target}/items/${step.id}`, {
        method: step.write ? "PUT" : "GET",
        headers: options.headers ?? {},
        ...(step.write ? { body: "{}" } : {}),
      });
      const text = await response.body.text();
      counts.requests++;
      const cacheStatus = String(response.headers["cache-status"] ?? "");
      judge(step, floor, { status: response.statusCode, cacheStatus, text });
    } catch (error) {
      counts.requests++;
      failures.push(`${step.what}: ${(error as Error).message}`);
    }
  };
  const worker = async (): Promise<void> => {
    while (running) await one();
  };
  const workers = Array.from({ length: options.concurrency }, () => worker());
  const report = (): LoadReport => ({
    ...counts,
    failures: [...failures],
    stale: [...stale],
    elapsedMs: performance.now() - started,
  });
  return {
    report,
    async stop() {
      running = false;
      await Promise.all(workers);
      return report();
    },
  };
}
