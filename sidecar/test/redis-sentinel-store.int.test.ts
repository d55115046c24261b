import { randomUUID } from "node:crypto";
import { type RedisSentinel, startRedisSentinel } from "@apicache/testkit/redis-sentinel";
import { waitFor } from "@apicache/testkit/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore } from "../src/store/create-store.js";
import { StoreError } from "../src/store/errors.js";
import { entryKey } from "../src/store/redis-layout.js";
import { primaryEpochKey } from "../src/store/redis-primary-epoch.js";
import type { EntryStore } from "../src/store/types.js";
import { describeStoreContract } from "./store-contract.js";

/** The store through `redis+sentinel://`: the shared contract, credentials, and the primary marker. */
const storeFor = (redisUrl: string, keyPrefix: string): EntryStore =>
  createStore({
    redisUrl,
    keyPrefix,
    commandTimeoutMs: 500,
    memoryMaxBytes: 16 * 1024 * 1024,
    maxEntryAgeMs: 0,
  });

describe("through Redis Sentinel without passwords", () => {
  let sentinel: RedisSentinel;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 60_000);
  afterAll(async () => sentinel?.stop());

  describeStoreContract(
    "redis-sentinel (via createStore)",
    ({ keyPrefix }) => storeFor(sentinel.url, keyPrefix),
    {
      sharedBackend: true,
    },
  );

  it("records the primary's replication id and a horizon under the policy's prefix", async () => {
    const prefix = `marker-${randomUUID()}`;
    const store = storeFor(sentinel.url, prefix);
    const primary = sentinel.client(await sentinel.primary());
    try {
      await store.set("k", Buffer.from("v"), { ttlMs: 60_000, tags: [] });
      const replid = /^master_replid:(\S+)/m.exec(await primary.info("replication"))?.[1];
      const marker = await waitFor("the primary marker", () => primary.get(primaryEpochKey(prefix)));
      expect(marker).toMatch(new RegExp(`^${replid} \\d+$`));
      expect(await primary.pttl(primaryEpochKey(prefix))).toBeGreaterThan(0);
    } finally {
      primary.disconnect();
      await store.close();
    }
  });
});

describe("through Redis Sentinel with passwords on the data nodes and on the sentinels", () => {
  let sentinel: RedisSentinel;
  beforeAll(async () => {
    sentinel = await startRedisSentinel({ password: "data-p@ss", sentinelPassword: "watch-p@ss" });
  }, 60_000);
  afterAll(async () => sentinel?.stop());

  it("connects with the URL's credentials and writes to the primary", async () => {
    const prefix = `auth-${randomUUID()}`;
    const store = storeFor(sentinel.url, prefix);
    const primary = sentinel.client(await sentinel.primary());
    try {
      await store.set("GET /auth", Buffer.from("kept"), { ttlMs: 60_000, tags: ["t"] });
      expect(await store.get("GET /auth")).toEqual(Buffer.from("kept"));
      expect(await primary.exists(entryKey(prefix, "GET /auth"))).toBe(1);
    } finally {
      primary.disconnect();
      await store.close();
    }
  });

  it.each([
    ["a wrong sentinel password", (url: string) => url.replace("watch-p%40ss", "wrong")],
    ["a wrong data password", (url: string) => url.replace("data-p%40ss", "wrong")],
    ["no credentials", (url: string) => url.replace(/:\/\/[^@]*@/, "://").replace(/\?.*$/, "")],
  ])("fails operations with a StoreError (never crashes) given %s", async (_what, spoil) => {
    const url = spoil(sentinel.url);
    expect(url).not.toBe(sentinel.url);
    const store = storeFor(url, `bad-${randomUUID()}`);
    try {
      await expect(store.get("k")).rejects.toBeInstanceOf(StoreError);
      expect(store.health().ok).toBe(false);
    } finally {
      await store.close();
    }
  });
});

describe("through Redis Sentinel, after the sentinels dropped the store's subscriptions", () => {
  let sentinel: RedisSentinel;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 60_000);
  afterAll(async () => sentinel?.stop());

  const onNode = async (
    node: { host: string; port: number },
    what: (list: string, role: string) => boolean,
  ) => {
    const client = sentinel.client(node);
    try {
      const role = String(((await client.call("ROLE")) as unknown[])[0]);
      return what(String(await client.call("CLIENT", "LIST")), role);
    } finally {
      client.disconnect();
    }
  };

  // A sentinel restarted (a rolling update) drops the +switch-master subscriptions; ioredis's default
  // resubscribes after a minute, and until then the store stays on a demoted primary (Sentinel demotes
  // it seconds after the switch), reading what the new primary no longer holds.
  it("still leaves the old primary at +switch-master, before Sentinel demotes it", async () => {
    const store = storeFor(sentinel.url, `resubscribe-${randomUUID()}`);
    try {
      const old = await sentinel.primary();
      await waitFor("the store to work", () => store.set("k", Buffer.from("v"), { ttlMs: 60_000, tags: [] }));
      for (const address of sentinel.sentinels) {
        const client = new Redis({ host: address.host, port: address.port });
        try {
          await client.call("CLIENT", "KILL", "TYPE", "pubsub");
        } finally {
          client.disconnect();
        }
      }
      const primary = await sentinel.failover();
      await waitFor(
        "the store's connection on the new primary",
        () => onNode(primary, (list) => list.includes("name=apicache-sidecar")),
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      expect(await onNode(old, (_list, role) => role === "master")).toBe(true);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe("through Redis Sentinel, a read in flight when the primary fails over", () => {
  let sentinel: RedisSentinel;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 60_000);
  afterAll(async () => sentinel?.stop());

  // ioredis resends a command the old connection did not answer on the new one, right after `ready`:
  // the entry comes from the new primary, where an invalidation the old one took may be missing.
  it("is judged against the horizon the new primary's check sets", async () => {
    const prefix = `in-flight-${randomUUID()}`;
    const store = createStore({
      redisUrl: sentinel.url,
      keyPrefix: prefix,
      commandTimeoutMs: 10_000,
      memoryMaxBytes: 1024 * 1024,
      maxEntryAgeMs: 0,
    });
    const old = await sentinel.primary();
    const admin = sentinel.client(old);
    try {
      await waitFor("the store to work", () =>
        store.set("k", Buffer.from("v0"), { ttlMs: 60_000, tags: [] }),
      );
      for (const node of sentinel.nodes) {
        const client = sentinel.client(node);
        try {
          await waitFor(`k on ${node.port}`, async () => (await client.exists(entryKey(prefix, "k"))) === 1);
        } finally {
          client.disconnect();
        }
      }
      // The old primary answers nothing more (as if the network dropped its replies); the read waits.
      await admin.call("CLIENT", "PAUSE", "10000", "ALL");
      const read = store.getEntry("k").then(
        (entry) => entry?.value.toString() ?? "miss",
        (error: unknown) => `failed: ${(error as Error).message}`,
      );
      await sentinel.failover();
      // Resent to the new primary and answered there (not failed): a miss, as k predates the horizon.
      expect(await read).toBe("miss");
    } finally {
      admin.disconnect(); // paused too: the pause ends by itself
      await store.close();
    }
  }, 60_000);
});
