import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { type Answer, eventually, metricValue, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * What ADR 0035 costs and promises once a fill's store is refused or slow (review of e2f0663): the
 * waiters of a superseded fill, and of the fill they start, on a hot key other pods write to; a fill
 * whose fence could not be taken. Two sidecars
 * sharing Redis, no L1 (no pushes: the store's fence is the only proof). Each case uses its own key
 * (`/things/:id`, tagged `thing:{id}`); the upstream answers each GET with the key's version when the
 * GET arrived, and holds GETs while `holding` says so.
 */
const SPEC = {
  store: { redis: { urlSecretRef: { name: "r", key: "url" } }, memory: { maxEntryAge: "0s" } },
  routes: [{ name: "thing", path: "/things/:id", ttl: "5m", tags: ["thing:{id}"] }],
  invalidate: [{ name: "thing-written", path: "/things/:id", methods: ["PUT"], tags: ["thing:{id}"] }],
};
const HOST = { host: "api.test" };
const COALESCED = "apicache_coalesced_requests_total";

let redis: RedisServer;
let upstream: TestUpstream;
let reader: Sidecar;
let writer: Sidecar;
const versions = new Map<string, number>();
/** Held GETs, oldest first: each answers with the version its path had when it arrived. */
const held: (() => void)[] = [];
let holding = true;

beforeAll(async () => {
  redis = await startRedis();
  upstream = await startUpstream((req, res) => {
    const path = req.url ?? "";
    if (req.method === "PUT") {
      versions.set(path, (versions.get(path) ?? 0) + 1);
      res.writeHead(204).end();
      return;
    }
    const read = versions.get(path) ?? 0;
    const answer = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ version: read }));
    };
    if (holding) held.push(answer);
    else answer();
  });
  reader = await startTestSidecar({ upstream: upstream.url, redisUrl: redis.url, spec: SPEC });
  writer = await startTestSidecar({ upstream: upstream.url, redisUrl: redis.url, spec: SPEC });
}, 60_000);

afterEach(() => {
  holding = false;
  for (const answer of held.splice(0)) answer();
});

afterAll(async () => {
  await reader?.close();
  await writer?.close();
  await upstream?.close();
  await redis?.stop();
});

const read = (path: string) => send(reader.url, path, { headers: HOST });
const version = (answer: Answer) => (JSON.parse(answer.body) as { version: number }).version;

async function write(path: string): Promise<void> {
  const answer = await send(writer.url, path, { method: "PUT", headers: HOST, body: "{}" });
  expect(answer.status).toBe(204);
}

/** Starts the reader's fill of `path` and holds it at the upstream (its answer, wrapped: not awaited). */
async function leadHeld(path: string): Promise<{ readonly first: Promise<Answer> }> {
  holding = true;
  const first = read(path);
  await eventually(async () => held.length === 1, 5_000, `the fill of ${path} at the upstream`);
  return { first };
}

/** Sends `n` reads that join the reader's held fill (each one counted as it joins). */
async function joinHeld(path: string, n: number): Promise<Promise<Answer>[]> {
  const before = await metricValue(reader, COALESCED);
  const joining = Array.from({ length: n }, () => read(path));
  await eventually(
    async () => (await metricValue(reader, COALESCED)) === before + n,
    5_000,
    `${n} reads of ${path} joining the held fill`,
  );
  return joining;
}

describe("the waiters of a fill another pod's write superseded", () => {
  it("take the next fill's answer even when a second write refuses its store too (no herd)", async () => {
    const path = "/things/herd";
    const { first } = await leadHeld(path);
    await write(path); // version 1: the held fill (version 0) will be refused
    const waiters = await joinHeld(path, 5);
    const before = await metricValue(reader, COALESCED);
    // The held fill answers version 0; its store is refused; the waiters look again: one leads a new
    // fill (held), the others join it. They read the store in one batch on one connection, before the
    // new fill's fence is answered: all four have joined once it reaches the upstream.
    held.shift()?.();
    await eventually(async () => held.length === 1, 5_000, "the waiters' new fill at the upstream");
    await write(path); // version 2: the new fill's store (version 1) is refused as well
    holding = false;
    held.shift()?.();
    const answers = await Promise.all(waiters);
    expect(version(await first)).toBe(0);
    // The new fill began after every waiter arrived: its answer (version 1) is new enough for them.
    expect(answers.map(version)).toEqual([1, 1, 1, 1, 1]);
    expect(upstream.count(path, "GET")).toBe(2);
    // Each waiter is counted once, however many fills it waited for.
    expect(await metricValue(reader, COALESCED)).toBe(before);
  });

  it("are counted once each when they join the fill one of them leads next", async () => {
    const path = "/things/counted";
    const { first } = await leadHeld(path);
    await write(path);
    const waiters = await joinHeld(path, 2);
    const joined = await metricValue(reader, COALESCED);
    holding = false;
    held.shift()?.();
    const answers = await Promise.all(waiters);
    expect(version(await first)).toBe(0);
    expect(answers.map(version)).toEqual([1, 1]);
    expect(upstream.count(path, "GET")).toBe(2);
    expect(await metricValue(reader, COALESCED)).toBe(joined);
  });
});

describe("a fill whose fence could not be taken (Redis did not answer in time)", () => {
  it("is taken by its waiters (nothing is known), not fetched again", async () => {
    const path = "/things/unfenced";
    const admin = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
    try {
      await admin.connect();
      const fenceErrors = () => metricValue(reader, "apicache_store_errors_total", { operation: "fence" });
      const errorsBefore = await fenceErrors();
      // While Redis is paused, the reader's read, lease and fence time out (50 ms command timeout).
      await admin.call("CLIENT", "PAUSE", "1000", "ALL");
      const { first } = await leadHeld(path);
      expect(await fenceErrors()).toBeGreaterThan(errorsBefore);
      await admin.ping(); // answered once the pause is over
      const [waiter] = await joinHeld(path, 1);
      // The store is sent to Redis, not skipped by an open circuit (which would fail it at once).
      expect(await metricValue(reader, "apicache_store_circuit_open")).toBe(0);
      holding = false;
      held.shift()?.();
      expect(version(await first)).toBe(0);
      expect(version(await (waiter as Promise<Answer>))).toBe(0);
      expect(upstream.count(path, "GET")).toBe(1);
    } finally {
      admin.disconnect();
    }
  });
});
