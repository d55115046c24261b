import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, histogramCount, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * A request that joins a fill already in flight must not get an answer from before a write that
 * another pod finished before the request arrived (coalescer.ts). With no L1 tier there is no push to
 * detach the flight: the store's fence is the proof. Reader's fill reads version 0 upstream and is held
 * there; the writer's write is answered (version 1); a second read then joins the reader's fill. The
 * fill's fenced store is refused, and the second read must answer version 1, not 0.
 */
const SPEC = {
  routes: [{ name: "item", path: "/item", ttl: "5m", tags: ["item"] }],
  invalidate: [{ name: "item-written", path: "/item", methods: ["PUT"], tags: ["item"] }],
};
const HOST = { host: "api.test" };
const STORE_OPERATIONS = "apicache_store_operation_duration_seconds";

describe.each([
  { tier: "no L1 (Redis alone)", maxEntryAge: "0s" },
  { tier: "L1 in front of Redis", maxEntryAge: "5s" },
])("a read joining a fill across another pod's write ($tier)", ({ maxEntryAge }) => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let reader: Sidecar;
  let writer: Sidecar;
  let version = 0;
  /** GETs of /item wait here, with the version they read on arrival, until released. */
  const held: (() => void)[] = [];
  let holding = true;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      if (req.method === "PUT") {
        version += 1;
        res.writeHead(204).end();
        return;
      }
      const read = version;
      const answer = () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ version: read }));
      };
      if (holding) held.push(answer);
      else answer();
    });
    const spec = {
      store: { redis: { urlSecretRef: { name: "r", key: "url" } }, memory: { maxEntryAge } },
      ...SPEC,
    };
    reader = await startTestSidecar({ upstream: upstream.url, redisUrl: redis.url, spec });
    writer = await startTestSidecar({ upstream: upstream.url, redisUrl: redis.url, spec });
  }, 60_000);

  afterAll(async () => {
    await reader?.close();
    await writer?.close();
    await upstream?.close();
    await redis?.stop();
  });

  it("answers the joining read with the written version, not the fill's older one", async () => {
    const first = send(reader.url, "/item", { headers: HOST });
    await eventually(async () => held.length === 1, 5_000, "the reader's fill at the upstream");
    const write = await send(writer.url, "/item", { method: "PUT", headers: HOST, body: "{}" });
    expect(write.status).toBe(204);
    const lookups = () =>
      histogramCount(reader, STORE_OPERATIONS, { store: reader.store.name, operation: "get" });
    const looked = await lookups();
    const second = send(reader.url, "/item", { headers: HOST });
    // Its store read done, it has joined the held fill — or, with L1, the write's pushed invalidation
    // detached that fill first (ADR 0018): it leads a fill of its own, which waits for the key's lease
    // (held by the first fill) and asks the upstream only once that fill ends. The read is its only one.
    await eventually(async () => (await lookups()) > looked, 5_000, "the second read's store lookup");
    holding = false;
    for (const answer of held.splice(0)) answer();
    const [one, two] = await Promise.all([first, second]);
    expect(JSON.parse(one.body)).toEqual({ version: 0 }); // the leader's read began before the write
    expect(JSON.parse(two.body)).toEqual({ version: 1 });
    expect(two.cacheStatus).not.toContain("detail=coalesced");
  });
});
