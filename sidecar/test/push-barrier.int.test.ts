import { randomUUID } from "node:crypto";
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { type Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keySlot, slotTag } from "../src/store/cluster-slot.js";
import { createStore } from "../src/store/create-store.js";
import { trackingArguments } from "../src/store/invalidation-channel.js";
import type { RedisBackedStore } from "../src/store/redis-backed-store.js";
import { createRedisClusterStore } from "../src/store/redis-cluster-store.js";
import { entryKey, generationKey, keyInvalidationKey } from "../src/store/redis-layout.js";
import { createRedisStore } from "../src/store/redis-store.js";
import { sharedRedis } from "./shared-redis.js";

/**
 * A write's invalidation resolves only once Redis has written its push to every pod's invalidation
 * connection (ADR 0018, "The pushes leave before the reply"; store/push-barrier.ts).
 *
 * Redis writes the clients with output pending at the end of an event-loop turn newest-first, so a
 * tracking connection that already had output pending in the turn that applied the invalidation (a
 * heartbeat's PONG, in production) is written after the writer's reply. The test builds exactly that
 * turn, without timing: the writer's connection is blocked (BLPOP) with the invalidation queued
 * behind it; one script then publishes to the tracking connection and unblocks the writer, so Redis
 * applies the invalidation in that turn (it runs unblocked clients' queued commands before sleeping)
 * and writes the writer first. Writer and tracker are in this process: their bytes are read in the
 * order they arrived, and the invalidation's promise settles in the callback that reads its last
 * reply, so "had the push been read when it resolved?" has one answer — no, without the barrier.
 *
 * Each row is one that fails without the barrier. Not here: a key invalidation on standalone Redis (its
 * two round trips go to one node, and only the first can be queued behind the BLPOP), and a tag
 * invalidation on a cluster (the paged drain's later steps each wait for an auto-pipeline's loop turn,
 * in which this process reads the push anyway: the construction cannot tell it from the barrier).
 * On a cluster the key is picked so that its entry lives on another node than its mark (the entry's
 * unlink, to the mark's node, would be queued too and move the mark to a later turn).
 */
const PREFIX = "pb";
const CHANNEL = "push-barrier-test";

interface Node {
  readonly host: string;
  readonly port: number;
}

describe.each([{ topology: "standalone" as const }, { topology: "cluster" as const }])(
  "an invalidation on $topology Redis",
  ({ topology }) => {
    let redis: RedisServer | undefined;
    let cluster: RedisCluster | undefined;
    let store: RedisBackedStore;

    beforeAll(async () => {
      if (topology === "standalone") {
        redis = await startRedis();
        store = createRedisStore({ node: redis, keyPrefix: PREFIX, commandTimeoutMs: 5_000 });
      } else {
        cluster = await startRedisCluster();
        store = createRedisClusterStore({ nodes: cluster.nodes, keyPrefix: PREFIX, commandTimeoutMs: 5_000 });
      }
      await store.ready();
    }, 90_000);

    afterAll(async () => {
      await store?.close();
      await redis?.stop();
      await cluster?.stop();
    });

    /** "host:port" of the node that holds `key` (and so pushes its changes). */
    async function ownerOf(key: string): Promise<string> {
      if (redis !== undefined) return `${redis.host}:${redis.port}`;
      const client = store.client as Cluster;
      return waitFor("the slot map", () => client.slots[keySlot(key)]?.[0]);
    }

    /** The first of item0, item1, … whose entry and mark live on different nodes. */
    async function keyApartFromItsMark(): Promise<string> {
      for (let n = 0; n < 100; n++) {
        const key = `item${n}`;
        if ((await ownerOf(keyInvalidationKey(PREFIX, key))) !== (await ownerOf(entryKey(PREFIX, key))))
          return key;
      }
      throw new Error("no key whose entry and mark live on different nodes");
    }

    /**
     * The store's own connection to a node, to send BLPOP on directly: the cluster client would hold the
     * invalidation's commands behind a pipeline it is still running (ioredis auto-pipelining).
     */
    function writerTo(node: Node): Redis {
      if (redis !== undefined) return store.client as Redis;
      const found = (store.client as Cluster)
        .nodes("master")
        .find((client) => client.options.host === node.host && client.options.port === node.port);
      if (found === undefined) throw new Error(`no connection to ${node.host}:${node.port}`);
      return found;
    }

    /** A tracking connection armed like a pod's (invalidation-channel.ts), also subscribed to CHANNEL. */
    async function tracker(node: Node): Promise<{ connection: Redis; heard: string[] }> {
      const connection = new Redis({ host: node.host, port: node.port, protocol: 2 });
      const heard: string[] = [];
      connection.on("messageBuffer", (_channel: Buffer, message: unknown) => {
        const names = Array.isArray(message) ? message : [message];
        for (const name of names) heard.push(String(name));
      });
      const id = (await connection.client("ID")) as number;
      await connection.call("CLIENT", ...trackingArguments(PREFIX, id));
      await connection.subscribe("__redis__:invalidate", CHANNEL);
      return { connection, heard };
    }

    /** Whether the writer's connection to the control's node is blocked (with something queued behind). */
    async function writerBlocked(control: Redis, queued: boolean): Promise<boolean> {
      const list = (await control.client("LIST")) as string;
      return list
        .split("\n")
        .some(
          (line) =>
            /\bname=apicache-sidecar\b/.test(line) &&
            /\bcmd=blpop\b/.test(line) &&
            (!queued || Number(/\bqbuf=(\d+)/.exec(line)?.[1]) > 0),
        );
    }

    /**
     * Runs `invalidate` in the crafted turn (see above) on the node of `pushed`; returns what the
     * tracking connection had read when it resolved.
     */
    async function inCraftedTurn(pushed: string, invalidate: () => Promise<number>): Promise<string[]> {
      const [host, port] = (await ownerOf(pushed)).split(":");
      const node = { host: host as string, port: Number(port) };
      const { connection: tracking, heard } = await tracker(node);
      const control = new Redis({ host: node.host, port: node.port, protocol: 2 });
      // On a cluster, in the pushed key's slot: the writer's connection to that node is the one blocked.
      const list = entryKey(PREFIX, `{${slotTag(keySlot(pushed))}}barrier`);
      try {
        const blocked = writerTo(node)
          .blpop(list, 0)
          .catch(() => undefined);
        await waitFor("the writer blocked", () => writerBlocked(control, false), { intervalMs: 5 });
        let heardAtResolve: string[] | undefined;
        const invalidating = invalidate().then(() => {
          heardAtResolve = [...heard];
        });
        await waitFor("the invalidation queued behind the BLPOP", () => writerBlocked(control, true), {
          intervalMs: 5,
        });
        heard.length = 0;
        // One turn: output for the tracker, then the writer unblocked (its queued invalidation runs
        // before Redis sleeps, and its push joins the tracker's pending output).
        await control.eval(
          "redis.call('PUBLISH', ARGV[1], 'first'); redis.call('RPUSH', KEYS[1], 'go'); return 1",
          1,
          list,
          CHANNEL,
        );
        await blocked;
        await invalidating;
        return heardAtResolve ?? [];
      } finally {
        tracking.disconnect();
        control.disconnect();
      }
    }

    // Registered only where the crafted turn can be produced (see above), not skipped elsewhere.
    if (topology === "standalone")
      it("a tag invalidation (deleteTags) resolves only once its push was written to a tracking connection that had output pending in that turn", async () => {
        const tag = "t";
        await store.set("item", Buffer.from("v0"), { ttlMs: 60_000, tags: [tag] }); // creates the generation
        await store.deleteTags([tag]); // loads the drain script: a NOSCRIPT would move it to another turn
        await store.set("item", Buffer.from("v0"), { ttlMs: 60_000, tags: [tag] });
        const pushed = generationKey(PREFIX, tag);
        expect(await inCraftedTurn(pushed, () => store.deleteTags([tag]))).toEqual(["first", pushed]);
      });

    if (topology === "cluster")
      it("a key invalidation (delete) resolves only once its mark's push was written the same way", async () => {
        const key = await keyApartFromItsMark();
        await store.set(key, Buffer.from("v0"), { ttlMs: 60_000, tags: [] });
        const pushed = keyInvalidationKey(PREFIX, key);
        // Set and dropped in one turn: the push names it once (Redis deduplicates a turn's keys).
        expect(await inCraftedTurn(pushed, () => store.delete([key]))).toEqual(["first", pushed]);
      });
  },
);

describe("a pod without L1", () => {
  const shared = sharedRedis();

  it("still waits for its invalidations' pushes: other pods may keep L1 copies (a rollout that turns L1 on)", async () => {
    const store = createStore({
      redisUrl: shared.server.url,
      keyPrefix: `no-l1-${randomUUID()}`,
      commandTimeoutMs: 5_000,
      memoryMaxBytes: 1 << 20,
      maxEntryAgeMs: 0,
    });
    try {
      await store.set("item", Buffer.from("v0"), { ttlMs: 60_000, tags: ["t"] });
      await store.deleteTags(["t"]); // loads the drain script
      await store.set("item", Buffer.from("v0"), { ttlMs: 60_000, tags: ["t"] });
      await shared.admin.config("RESETSTAT");
      await store.deleteTags(["t"]);
      // The barrier is one GET of the changed generation, after the drain (push-barrier.ts).
      expect(await commandCalls(shared.admin, "get")).toBe(1);
    } finally {
      await store.close?.();
    }
  });
});

/** How many times Redis has run `command` since its stats were reset (INFO commandstats). */
async function commandCalls(admin: Redis, command: string): Promise<number> {
  const stats = await admin.info("commandstats");
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, "m").exec(stats);
  return Number(match?.[1] ?? 0);
}
