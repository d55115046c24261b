/**
 * Part 1 of `make bench-multi`: hits with three replicas, load spread over them, side by side in one
 * run. Rows: a bare node:http floor; three sidecars without Redis (each its own memory store: an
 * in-process lookup without the tiered store's coherence or io-turn wait); three sidecars sharing Redis
 * with L1 and pushed invalidation (served from L1); three sharing Redis with `maxEntryAge: 0s` (no L1:
 * every hit read from Redis). The same key through every replica, with one Host.
 */
import { spawnChild } from "./bench-children.js";
import { combine, load, probe, type RawRun } from "./bench-load.js";
import type { ScenarioResult } from "./bench-report.js";
import { type BenchReplica, scrape, startReplicaSet } from "./multi-replicas.js";
import { HIT_ROWS, type HitsRun, type RowServing, sumMetric } from "./multi-report.js";

export interface HitsOptions {
  readonly build: string;
  readonly redisUrl: string;
  readonly replicas: number;
  /** Seconds of each throughput run (and of each latency run, split over the replicas). */
  readonly durationSeconds: number;
  readonly rounds: number;
  /** Connections of the throughput runs, spread evenly over the replicas. */
  readonly connections: number;
  readonly bodyBytes: number;
  readonly host: string;
  readonly progress: (line: string) => void;
}

interface Row {
  readonly name: string;
  readonly description: string;
  readonly urls: readonly string[];
  /** The sidecars behind a sidecar row (none for the floor). */
  readonly replicas: readonly BenchReplica[];
}

/** What a row's replicas have served so far, from their counters. */
async function serving(row: Row): Promise<RowServing> {
  let requests = 0;
  let hits = 0;
  let redisReads = 0;
  for (const replica of row.replicas) {
    const text = await scrape(replica);
    const answered = sumMetric(text, "apicache_requests_total", { outcome: ["hit"] });
    requests += answered.total;
    hits += answered.matching;
    const store = { store: ["redis"], operation: ["get"] };
    redisReads += sumMetric(text, "apicache_store_operation_duration_seconds_count", store).matching;
  }
  return { name: row.name, requests, hits, redisReads };
}

function since(after: RowServing, before: RowServing | undefined): RowServing {
  return {
    name: after.name,
    requests: after.requests - (before?.requests ?? 0),
    hits: after.hits - (before?.hits ?? 0),
    redisReads: after.redisReads - (before?.redisReads ?? 0),
  };
}

async function startRows(options: HitsOptions): Promise<Row[]> {
  const body = String(options.bodyBytes);
  const [floor, upstream] = await Promise.all([
    spawnChild<{ port: number }>("bench-origin.ts", ["floor", body]),
    spawnChild<{ port: number }>("bench-origin.ts", ["upstream", body]),
  ]);
  const common = {
    count: options.replicas,
    upstream: `http://127.0.0.1:${upstream.port}`,
    build: options.build,
  };
  options.progress(`starting 3 × ${options.replicas} sidecars (memory store, L1 + Redis, Redis only)`);
  const [memory, tiered, redisOnly] = await Promise.all([
    startReplicaSet({ ...common, redisUrl: "", maxEntryAge: "5m" }),
    startReplicaSet({ ...common, redisUrl: options.redisUrl, maxEntryAge: "5m" }),
    startReplicaSet({ ...common, redisUrl: options.redisUrl, maxEntryAge: "0s" }),
  ]);
  const item = (set: readonly { url: string }[]) => set.map((replica) => `${replica.url}/items/1`);
  const n = options.replicas;
  return [
    {
      name: HIT_ROWS.floor,
      description:
        "one bare `node:http` process answering a precomputed buffer: the fastest a Node server answers.",
      urls: [`http://127.0.0.1:${floor.port}/items/1`],
      replicas: [],
    },
    {
      name: HIT_ROWS.memory,
      description: `${n} sidecars without Redis, each its own memory store: the in-process lookup alone (no tiered store, no pushed invalidation, no io-turn wait).`,
      urls: item(memory),
      replicas: memory,
    },
    {
      name: HIT_ROWS.l1,
      description: `${n} sidecars sharing one Redis, L1 kept coherent by pushed invalidation (\`maxEntryAge: 5m\`, the default): served from L1 after one more event-loop turn (io-turn.ts, ADR 0018).`,
      urls: item(tiered),
      replicas: tiered,
    },
    {
      name: HIT_ROWS.redis,
      description: `${n} sidecars sharing one Redis with \`maxEntryAge: 0s\` (no L1): every hit read from Redis (the entry and its tags' generations in one round trip, ADR 0008).`,
      urls: item(redisOnly),
      replicas: redisOnly,
    },
  ];
}

/** Each replica probed twice (fills its copy); the last Cache-Status is the row's. */
async function probeRow(row: Row, host: string): Promise<string> {
  let status = "";
  for (const url of row.urls) status = await probe(url, { host });
  if (row.replicas.length > 0 && !/; hit(;|$)/.test(status)) {
    throw new Error(`${row.name}: expected a hit after two requests, got Cache-Status "${status}"`);
  }
  return status;
}

/** One connection at a time, a share of the duration on each replica in turn (the service time). */
async function latencyRun(row: Row, options: HitsOptions): Promise<RawRun[]> {
  const seconds = options.durationSeconds / row.urls.length;
  const runs: RawRun[] = [];
  for (const url of row.urls) {
    runs.push(await load({ url, connections: 1, durationSeconds: seconds, headers: { host: options.host } }));
  }
  return runs;
}

function merge(runs: readonly RawRun[]): RawRun {
  const latencies = new Float64Array(runs.reduce((sum, run) => sum + run.latencies.length, 0));
  let offset = 0;
  for (const run of runs) {
    latencies.set(run.latencies, offset);
    offset += run.latencies.length;
  }
  const requests = runs.reduce((sum, run) => sum + run.requests, 0);
  const seconds = runs.reduce((sum, run) => sum + run.requests / run.rps, 0);
  return { rps: requests / seconds, latencies, requests, failures: runs.reduce((s, r) => s + r.failures, 0) };
}

export async function measureHits(options: HitsOptions): Promise<HitsRun> {
  const rows = await startRows(options);
  const statuses = new Map<string, string>();
  const headers = { host: options.host };
  for (const row of rows) {
    statuses.set(row.name, await probeRow(row, options.host));
    await load({ url: row.urls, connections: options.connections, durationSeconds: 1, headers });
  }
  const sidecarRows = rows.filter((row) => row.replicas.length > 0);
  const before = await Promise.all(sidecarRows.map(serving));
  const latency = new Map<string, RawRun[]>(rows.map((r) => [r.name, []]));
  const throughput = new Map<string, RawRun[]>(rows.map((r) => [r.name, []]));
  for (let round = 1; round <= options.rounds; round++) {
    // A different row goes first each round, so none always follows the same neighbour.
    const order = rows.map((_, i) => rows[(i + round - 1) % rows.length] as Row);
    for (const row of order) {
      const single = merge(await latencyRun(row, options));
      const many = await load({
        url: row.urls,
        connections: options.connections,
        durationSeconds: options.durationSeconds,
        headers,
      });
      latency.get(row.name)?.push(single);
      throughput.get(row.name)?.push(many);
      options.progress(
        `round ${round}/${options.rounds} ${row.name}: ${Math.round(many.rps)} req/s (${options.connections} conns), ${Math.round(single.rps)} req/s (1 conn)`,
      );
    }
  }
  const results: ScenarioResult[] = rows.map((row) => {
    const single = latency.get(row.name) ?? [];
    const many = throughput.get(row.name) ?? [];
    return {
      name: row.name,
      description: row.description,
      cacheStatus: statuses.get(row.name) ?? "",
      latency: combine(single),
      throughput: combine(many),
    };
  });
  const after = await Promise.all(sidecarRows.map(serving));
  return {
    served: after.map((row, i) => since(row, before[i])),
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    rounds: options.rounds,
    results,
  };
}
