import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { Writable } from "node:stream";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { InvalidationChannel } from "../src/store/invalidation-channel.js";
import { nextIoTurn } from "../src/store/io-turn.js";
import { L1Coherence } from "../src/store/l1-coherence.js";
import {
  createInvalidationChannel,
  INVALIDATION_CONNECTION_NAME,
} from "../src/store/l1-invalidation-connections.js";
import { MemoryStore } from "../src/store/memory-store.js";
import { createRedisStore } from "../src/store/redis-store.js";
import { parseRedisUrl } from "../src/store/redis-url.js";

/**
 * The L1 invalidation channel (ADR 0018) against a real Redis: what Redis actually pushes (writes,
 * expiry, eviction, FLUSHALL), and how the channel lives through what a loaded pod and a flaky link
 * do to its connection (a stalled event loop, a connection cut while it is being armed).
 */
const PREFIX = "p";

interface Harness {
  readonly l1: MemoryStore;
  readonly coherence: L1Coherence;
  /** Every up/down transition, in order. */
  readonly transitions: boolean[];
  readonly flushes: string[];
  readonly warnings: string[];
  close(): Promise<void>;
}

function harness(open: (coherence: L1Coherence, logger: pino.Logger) => { close(): Promise<void> }): Harness {
  const l1 = new MemoryStore({ maxBytes: 1 << 20 });
  const transitions: boolean[] = [];
  const flushes: string[] = [];
  const warnings: string[] = [];
  const coherence = new L1Coherence({
    target: l1,
    events: {
      onChannel: (up) => transitions.push(up),
      onFlush: (reason) => flushes.push(reason),
    },
  });
  transitions.length = 0; // the constructor's initial "down"
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        const record = JSON.parse(line) as { level: number; msg: string };
        if (record.level >= 40) warnings.push(record.msg);
      }
      done();
    },
  });
  const channel = open(coherence, pino({ level: "info" }, sink));
  return { l1, coherence, transitions, flushes, warnings, close: () => channel.close() };
}

function put(l1: MemoryStore, key: string, tags: string[] = []): void {
  l1.put(key, Buffer.from(key), { ttlMs: 60_000, tags });
}

describe("the L1 invalidation channel on a real Redis", () => {
  let redis: RedisServer;
  let admin: Redis;
  const open: Harness[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { protocol: 2 });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
    await admin.config("SET", "maxmemory", "0");
  });

  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  function fromUrl(url: string): Harness {
    const h = harness((coherence, logger) =>
      createInvalidationChannel({
        target: parseRedisUrl(url),
        keyPrefix: PREFIX,
        coherence,
        client: admin,
        commandTimeoutMs: 50,
        logger,
      }),
    );
    open.push(h);
    return h;
  }

  async function up(h: Harness): Promise<void> {
    await waitFor("the channel to be armed", () => h.coherence.serving);
  }

  it("drops the L1 copies of what Redis says changed: generations (written, expired, evicted), key marks, FLUSHALL", async () => {
    const h = fromUrl(redis.url);
    await up(h);
    const store = createRedisStore({
      node: { host: redis.host, port: redis.port },
      keyPrefix: PREFIX,
      commandTimeoutMs: 200,
    });
    try {
      put(h.l1, "tagged", ["t"]);
      put(h.l1, "expiring", ["e"]);
      put(h.l1, "deleted");
      put(h.l1, "filled");
      put(h.l1, "kept", ["other"]);
      await admin.set(`${PREFIX}:g|t`, "gen");
      await admin.set(`${PREFIX}:g|e`, "gen", "PX", 20);
      await store.delete(["deleted"]); // an admin key invalidation
      // A fill of an entry (any pod's), another policy's generations and tag sets: not pushed.
      await admin.set(`${PREFIX}:k|filled`, "v");
      await admin.set(`${PREFIX}x:g|other`, "gen");
      await admin.zadd(`${PREFIX}:t|other`, 1, "kept");
      await waitFor("the changes and the expiry to be pushed", async () => {
        await admin.get(`${PREFIX}:g|e`); // an expired key is deleted (and pushed) when touched
        return ["tagged", "expiring", "deleted"].every((key) => h.l1.lookup(key) === undefined);
      });
      expect([h.l1.lookup("filled"), h.l1.lookup("kept")].map(Boolean)).toEqual([true, true]);
      expect(await admin.exists(`${PREFIX}:d|deleted`)).toBe(0); // the mark is dropped at once

      // Eviction: a generation Redis drops for memory is pushed like a delete.
      put(h.l1, "evicted", ["v"]);
      await admin.set(`${PREFIX}:g|v`, "gen");
      await waitFor("the generation's creation to be pushed", () => h.l1.lookup("evicted") === undefined);
      put(h.l1, "evicted", ["v"]);
      await admin.config("SET", "maxmemory-policy", "allkeys-random");
      const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1]);
      await admin.config("SET", "maxmemory", String(used + 64 * 1024));
      try {
        await waitFor("an eviction to be pushed", async () => {
          await admin.set(`filler:${Math.random()}`, "x".repeat(16 * 1024)).catch(() => undefined);
          return h.l1.lookup("evicted") === undefined;
        });
      } finally {
        await admin.config("SET", "maxmemory", "0");
        await admin.config("SET", "maxmemory-policy", "noeviction");
      }

      put(h.l1, "a");
      put(h.l1, "b");
      await admin.flushall();
      await waitFor("FLUSHALL to be pushed", () => h.l1.entries === 0);
      expect(h.flushes).toContain("flush_message");
      expect(h.transitions).toEqual([true]);
    } finally {
      await store.close();
    }
  });

  /**
   * A write's push must be in every pod's socket when the writer has its reply. It is queued behind
   * whatever that pod's channel has not read yet: a pod that did not read it for a while (CPU-starved)
   * then has that backlog in its socket (an event-loop turn reads at most 2 MiB of one socket) and in
   * Redis's output buffer (written 64 KiB per Redis turn), and serves its L1 copy until it is through.
   * `names` are 100,000 changes made while the pod was not reading, then the write.
   */
  async function writeBehindBacklog(names: (i: number) => string): Promise<boolean> {
    let client: Redis | undefined;
    const h = harness((coherence, logger) => {
      return new InvalidationChannel({
        keyPrefix: PREFIX,
        coherence,
        nodes: { host: redis.host, port: redis.port },
        logger,
        connect: (node) => {
          client = new Redis({ ...node, protocol: 2, autoResubscribe: false, enableOfflineQueue: false });
          return client;
        },
      });
    });
    open.push(h);
    await up(h);
    const writer = new Redis(redis.url, { protocol: 2 });
    await admin.config("SET", "client-output-buffer-limit", "pubsub 0 0 0");
    try {
      put(h.l1, "item", ["t"]);
      await writer.set(`${PREFIX}:g|t`, "generation");
      await waitFor("the generation's creation to be pushed", () => h.l1.lookup("item") === undefined);
      put(h.l1, "item", ["t"]);
      const stream = (client as unknown as { stream: NodeJS.ReadableStream }).stream;
      stream.pause();
      const batches = writer.pipeline();
      for (let i = 0; i < 100_000; i += 10_000) {
        batches.mset(...Array.from({ length: 10_000 }, (_, j) => [names(i + j), "v"]).flat());
      }
      await batches.exec();
      await writer.unlink(`${PREFIX}:g|t`); // the writer has its reply
      // A read reaches the pod, which runs again: it handles its sockets, then serves after one turn.
      stream.resume();
      await nextIoTurn();
      return h.l1.lookup("item") === undefined;
    } finally {
      writer.disconnect();
      await admin.config("SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60");
    }
  }

  it("has a write's push handled after one loop turn, after 100,000 entries changed (a drained tag, fills)", async () => {
    // Entries are not tracked (l1-coherence.ts): this used to push 6 MB to every pod first, and the
    // copy was served for about a second after the write's response.
    expect(await writeBehindBacklog((i) => `${PREFIX}:k|bulk-${i}-${"x".repeat(40)}`)).toBe(true);
  });

  // Known, not fixed (ADR 0018, "Still open"): the same behind 100,000 generation changes.
  it.fails("has a write's push handled after one loop turn, after 100,000 generations changed", async () => {
    expect(await writeBehindBacklog((i) => `${PREFIX}:g|bulk-${i}-${"x".repeat(40)}`)).toBe(true);
  });

  it("stays up through an event-loop stall longer than its heartbeat, its PONG already in the socket", async () => {
    // Long enough that a Redis descheduled on a loaded machine still answers in time: only the stall counts.
    const heartbeatMs = 250;
    let stalls = 1;
    let serving = () => false;
    // A loaded pod: right after the PONG reached the channel's socket, the process is busy with other
    // I/O for three heartbeats (here: the relay, in this process, that handed the PONG over).
    const relay = await startRelay(redis, {
      fromServer(chunk) {
        if (!chunk.toString("latin1").includes("pong") || !serving() || stalls-- <= 0) return;
        const until = performance.now() + 3 * heartbeatMs;
        while (performance.now() < until) {
          // busy
        }
      },
    });
    try {
      const h = harness((coherence, logger) => {
        serving = () => coherence.serving;
        return new InvalidationChannel({
          keyPrefix: PREFIX,
          coherence,
          nodes: { host: "127.0.0.1", port: relay.port },
          heartbeatMs,
          logger,
          connect: (node) =>
            new Redis({ ...node, protocol: 2, autoResubscribe: false, enableOfflineQueue: false }),
        });
      });
      open.push(h);
      await up(h);
      await waitFor("the stall, and a PONG after it", () => stalls < 0);
      // Several heartbeats later, and a push still arrives on the same connection.
      put(h.l1, "after-stall", ["after-stall"]);
      await admin.set(`${PREFIX}:g|after-stall`, "generation");
      await waitFor("a push after the stall", () => h.l1.lookup("after-stall") === undefined);
      expect({ transitions: h.transitions, warnings: h.warnings }).toEqual({
        transitions: [true],
        warnings: [],
      });
    } finally {
      await relay.close();
    }
  });

  it("re-arms a connection cut while it was being armed once, never up without tracking on it", async () => {
    // The first connection is dropped the moment its SUBSCRIBE passes (its id and tracking are set,
    // the subscription is not answered yet): ioredis reconnects, and resends what was unanswered.
    let cuts = 0;
    const relay = await startRelay(redis, {
      fromClient(chunk) {
        if (cuts > 0 || !chunk.toString("latin1").toUpperCase().includes("SUBSCRIBE")) return false;
        cuts++;
        return true;
      },
    });
    try {
      const h = fromUrl(`redis://127.0.0.1:${relay.port}`);
      await up(h);
      expect(cuts).toBe(1);
      // Whenever it says it is up, the connection it holds tracks and is subscribed.
      const flags = async () =>
        String(await admin.client("LIST"))
          .split("\n")
          .filter((line) => line.includes(` name=${INVALIDATION_CONNECTION_NAME} `))
          .map((line) => /flags=(\S+)/.exec(line)?.[1] ?? "");
      const armed = await flags();
      put(h.l1, "after-cut", ["after-cut"]);
      await admin.set(`${PREFIX}:g|after-cut`, "generation");
      await waitFor("a push on the re-armed connection", () => h.l1.lookup("after-cut") === undefined);
      expect({ armed, transitions: h.transitions, warnings: h.warnings }).toEqual({
        armed: [expect.stringMatching(/^(?=.*P)(?=.*t)(?=.*B)/)],
        transitions: [true],
        warnings: [],
      });
      expect(await flags()).toHaveLength(1);
    } finally {
      await relay.close();
    }
  });
});

/**
 * A TCP relay to Redis in this process. `fromClient` sees what the client sends (already forwarded)
 * and returns true to cut the connection there; `fromServer` sees what Redis answers, once forwarded.
 */
async function startRelay(
  redis: RedisServer,
  hooks: { fromClient?(chunk: Buffer): boolean; fromServer?(chunk: Buffer): void },
): Promise<{ readonly port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((down: Socket) => {
    const upstream = tcpConnect(redis.port, redis.host);
    sockets.add(down).add(upstream);
    let cut = false;
    const end = () => {
      cut = true;
      down.destroy();
      upstream.destroy();
      sockets.delete(down);
      sockets.delete(upstream);
    };
    down.on("data", (chunk: Buffer) => {
      if (cut) return;
      upstream.write(chunk);
      if (hooks.fromClient?.(chunk)) end();
    });
    upstream.on("data", (chunk: Buffer) => {
      if (cut) return;
      down.write(chunk);
      hooks.fromServer?.(chunk);
    });
    down.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
