/**
 * Part 2 of `make bench-multi`: how long after a write through one replica the other replicas' L1
 * still serve the old copy. Per write (a fresh resource each time, the writer rotating over the
 * replicas):
 *
 *   1. the writer reads the resource (a fill); once its push has gone out, each reader reads it twice
 *      (a Redis hit that fills L1, then an L1 hit): both readers hold it in L1;
 *   2. each reader is probed with back-to-back GETs, as a client reading through that pod would;
 *   3. the write goes through the writer (POST; the origin bumps the resource's version);
 *   4. each reader's probes stop at the first answer with the new version (its L1 copy is gone; the
 *      answer came from Redis or the upstream).
 *
 * Times (epochNow, comparable between processes), from "applied": when Redis had applied the write's
 * invalidation, as the earlier of two pieces of evidence: its push reaching a tracking connection in a
 * process of its own (tracking-listener.ts; Redis sends it to every pod in the same pass), and the
 * write's response reaching the client (the writer answers only once Redis has applied it). Per reader:
 * the send times of its last probe that got the old copy and of its first that got the new version;
 * the pod dropped its copy between the two (one probe round trip of resolution).
 */
import { Agent } from "node:http";
import { pathTag } from "../src/keys/cache-key.js";
import { spawnChild } from "./bench-children.js";
import { sendRequest } from "./bench-load.js";
import { benchKeyPrefix } from "./bench-policy.js";
import { type BenchReplica, metricTotal, startReplicaSet } from "./multi-replicas.js";
import type { PropagationSample } from "./multi-report.js";
import { epochNow, listenForPushes, type TrackingListener } from "./tracking-listener.js";

export interface PropagationOptions {
  readonly build: string;
  readonly redisUrl: string;
  readonly replicas: number;
  readonly writes: number;
  readonly host: string;
  /** A reader still serving the old copy this long after the write was sent counts as "never". */
  readonly deadlineMs: number;
  readonly progress: (line: string) => void;
}

export interface PropagationRun {
  readonly samples: PropagationSample[];
  readonly writes: number;
  /** Round trips of the probes that got the old copy (L1 hits): the measurement's resolution. */
  readonly probeMs: number[];
  /** apicache_l1_pushed_evictions_total over the run, summed over the replicas. */
  readonly pushedEvictions: number;
}

interface Probe {
  readonly sentAt: number;
  readonly version: number;
  readonly ms: number;
}

interface Reader {
  readonly index: number;
  readonly url: string;
  readonly agent: Agent;
}

const MAX_PROBES = 4_096;

/** What a reader is probed for: `path` (with its Host header) at `version` or newer. */
interface WantedVersion {
  readonly path: string;
  readonly host: string;
  readonly version: number;
}

/** Back-to-back GETs until one answers the wanted version or newer, or the deadline passes. */
async function probeUntil(
  reader: Reader,
  wanted: WantedVersion,
  until: { readonly deadline: number; readonly started: () => void },
): Promise<Probe[]> {
  const { path, host, version } = wanted;
  const probes: Probe[] = [];
  while (probes.length < MAX_PROBES && epochNow() < until.deadline) {
    const sentAt = epochNow();
    const answer = await sendRequest(`${reader.url}${path}`, { host }, { agent: reader.agent });
    const probe = { sentAt, version: versionOf(answer.body), ms: epochNow() - sentAt };
    probes.push(probe);
    if (probes.length === 1) until.started();
    if (probe.version >= version) break;
  }
  return probes;
}

function versionOf(body: string): number {
  const parsed = JSON.parse(body) as { version?: unknown };
  return typeof parsed.version === "number" ? parsed.version : Number.NaN;
}

async function read(reader: Reader, path: string, host: string): Promise<number> {
  return versionOf((await sendRequest(`${reader.url}${path}`, { host }, { agent: reader.agent })).body);
}

interface WriteContext {
  readonly writer: Reader;
  readonly readers: readonly Reader[];
  readonly listener: TrackingListener;
  readonly options: PropagationOptions;
}

/** One write and a sample per reader (steps 1-4 above). */
async function oneWrite(id: number, c: WriteContext, probeMs: number[]): Promise<PropagationSample[]> {
  const { host, deadlineMs } = c.options;
  const path = `/items/${id}`;
  const fillSent = epochNow();
  await read(c.writer, path, host);
  // The fill's own pushes (its fence, its entry) drop L1 copies everywhere: read only after them.
  await c.listener.next(
    fillSent,
    (p) => p.invalidation.kind === "names" && p.invalidation.keys.length > 0,
    1_000,
  );
  for (const reader of c.readers) {
    for (let i = 0; i < 2; i++) {
      if ((await read(reader, path, host)) !== 0) throw new Error(`${reader.url}${path}: not version 0`);
    }
  }
  // The write is sent once every reader has answered one probe (the old copy, from L1).
  const deadline = epochNow() + deadlineMs;
  const started: Promise<void>[] = [];
  const probing = c.readers.map((reader) => {
    let signal = () => {};
    started.push(new Promise<void>((resolve) => (signal = resolve)));
    return probeUntil(reader, { path, host, version: 1 }, { deadline, started: () => signal() });
  });
  await Promise.all(started.map((s, i) => Promise.race([s, probing[i]])));
  const writeSent = epochNow();
  const answer = await sendRequest(
    `${c.writer.url}${path}`,
    { host },
    { agent: c.writer.agent, method: "POST" },
  );
  const writeAnswered = epochNow();
  if (versionOf(answer.body) !== 1)
    throw new Error(`POST ${path} through ${c.writer.url}: ${answer.status} ${answer.body}`);
  // The write's RFC 9111 §4.4 invalidation of its target URI drops the path's generation (ADR 0008).
  const tag = pathTag(path);
  const push = await c.listener.next(
    writeSent,
    (p) => p.invalidation.kind === "names" && p.invalidation.tags.includes(tag),
    deadlineMs,
  );
  if (push === undefined) throw new Error(`no push for POST ${path} within ${deadlineMs} ms`);
  // Both are evidence that Redis has applied the invalidation (the writer answers only after it has):
  // the earlier one bounds the moment best when one of the two processes was slow to notice.
  const applied = Math.min(push.at, writeAnswered);
  const results = await Promise.all(probing);
  return c.readers.map((reader, i) => {
    const probes = results[i] ?? [];
    for (const p of probes) if (p.version < 1) probeMs.push(p.ms);
    const fresh = probes.find((p) => p.version >= 1);
    const stale = probes.filter((p) => p.version < 1);
    const lastStale = stale[stale.length - 1];
    return {
      reader: reader.index,
      freshMs: fresh === undefined ? Number.POSITIVE_INFINITY : fresh.sentAt - applied,
      staleMs: lastStale === undefined ? Number.NEGATIVE_INFINITY : lastStale.sentAt - applied,
      freshFromResponseMs: fresh === undefined ? Number.POSITIVE_INFINITY : fresh.sentAt - writeAnswered,
      staleAfterResponse: stale.filter((p) => p.sentAt > writeAnswered).length,
    };
  });
}

export async function measurePropagation(options: PropagationOptions): Promise<PropagationRun> {
  const origin = await spawnChild<{ port: number }>("bench-origin.ts", ["versioned"]);
  options.progress(`starting ${options.replicas} sidecars sharing one Redis (L1 + pushed invalidation)`);
  const replicas: BenchReplica[] = await startReplicaSet({
    count: options.replicas,
    upstream: `http://127.0.0.1:${origin.port}`,
    redisUrl: options.redisUrl,
    maxEntryAge: "5m",
    build: options.build,
  });
  const listener = await listenForPushes(options.redisUrl, benchKeyPrefix("5m"));
  const nodes: Reader[] = replicas.map((replica, index) => ({
    index,
    url: replica.url,
    agent: new Agent({ keepAlive: true, maxSockets: 1 }),
  }));
  const evictions = async () =>
    (await Promise.all(replicas.map((r) => metricTotal(r, "apicache_l1_pushed_evictions_total")))).reduce(
      (a, b) => a + b,
      0,
    );
  try {
    const evictedBefore = await evictions();
    const samples: PropagationSample[] = [];
    const probeMs: number[] = [];
    for (let w = 0; w < options.writes; w++) {
      const writer = nodes[w % nodes.length] as Reader;
      const context = { writer, readers: nodes.filter((n) => n !== writer), listener, options };
      samples.push(...(await oneWrite(w + 1, context, probeMs)));
      if ((w + 1) % 100 === 0 || w + 1 === options.writes)
        options.progress(`propagation: ${w + 1}/${options.writes} writes`);
    }
    return { samples, writes: options.writes, probeMs, pushedEvictions: (await evictions()) - evictedBefore };
  } finally {
    for (const node of nodes) node.agent.destroy();
  }
}
