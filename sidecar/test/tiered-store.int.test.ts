import { randomUUID } from "node:crypto";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createStore } from "../src/store/create-store.js";
import type { EntryStore } from "../src/store/types.js";

// Two tiered stores sharing one Redis stand for two sidecar pods of one deployment.
const MAX_ENTRY_AGE_MS = 300;
const SCHEDULING_MARGIN_MS = 250;

let redis: RedisServer;
const open: EntryStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  await redis?.stop();
});

function pods(maxEntryAgeMs = MAX_ENTRY_AGE_MS): [EntryStore, EntryStore] {
  const keyPrefix = `coherence-${randomUUID()}`;
  const make = () =>
    createStore({
      redisUrl: redis.url,
      keyPrefix,
      commandTimeoutMs: 500,
      memoryMaxBytes: 1 << 20,
      maxEntryAgeMs,
    });
  const pair: [EntryStore, EntryStore] = [make(), make()];
  open.push(...pair);
  return pair;
}

async function pollUntil(
  description: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("tiered stores of two pods sharing one Redis", () => {
  it("stop serving an entry the other pod invalidated within maxEntryAge", async () => {
    const [podA, podB] = pods();
    const value = Buffer.from("slots for barber 7");
    await podA.set("GET /slots/7", value, { ttlMs: 60_000, tags: ["slots", "barber:7"] });
    expect(await podB.get("GET /slots/7")).toEqual(value);
    // Pod A re-reads within maxEntryAge: answered from its L1.
    expect(await podA.get("GET /slots/7")).toEqual(value);
    expect(podA.stats().l1?.entries).toBe(1);

    const invalidatedAt = performance.now();
    expect(await podB.deleteTags(["barber:7"])).toBe(1);
    expect(await podB.get("GET /slots/7")).toBeUndefined();
    const stale = await pollUntil(
      "pod A to stop serving the invalidated entry",
      async () => (await podA.get("GET /slots/7")) === undefined,
      MAX_ENTRY_AGE_MS + 5_000,
    );
    const sinceInvalidation = performance.now() - invalidatedAt;
    expect(stale).toBeLessThanOrEqual(MAX_ENTRY_AGE_MS + SCHEDULING_MARGIN_MS);
    expect(sinceInvalidation).toBeLessThanOrEqual(MAX_ENTRY_AGE_MS + SCHEDULING_MARGIN_MS);
  });

  it("pick up the other pod's overwrite within maxEntryAge", async () => {
    const [podA, podB] = pods();
    await podA.set("k", Buffer.from("v1"), { ttlMs: 60_000, tags: [] });
    expect(await podA.get("k")).toEqual(Buffer.from("v1"));
    await podB.set("k", Buffer.from("v2"), { ttlMs: 60_000, tags: [] });
    const took = await pollUntil(
      "pod A to serve the new value",
      async () => (await podA.get("k"))?.equals(Buffer.from("v2")) === true,
      MAX_ENTRY_AGE_MS + 5_000,
    );
    expect(took).toBeLessThanOrEqual(MAX_ENTRY_AGE_MS + SCHEDULING_MARGIN_MS);
  });

  it("stop serving at once what the pod itself invalidated", async () => {
    const [podA, podB] = pods(60_000);
    await podB.set("k", Buffer.from("v"), { ttlMs: 60_000, tags: ["t"] });
    expect(await podA.get("k")).toEqual(Buffer.from("v"));
    expect(await podA.deleteTags(["t"])).toBe(1);
    expect(await podA.get("k")).toBeUndefined();
  });

  it("with maxEntryAge 0 never serve an invalidated entry", async () => {
    const [podA, podB] = pods(0);
    await podA.set("k", Buffer.from("v"), { ttlMs: 60_000, tags: ["t"] });
    expect(await podA.get("k")).toEqual(Buffer.from("v"));
    await podB.deleteTags(["t"]);
    expect(await podA.get("k")).toBeUndefined();
  });
});
