import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, isPortFree } from "@apicache/testkit/ports";
import { type Spawned, spawnTracked } from "@apicache/testkit/processes";
import { type RedisCluster, startRedisCluster } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { L1Coherence } from "../src/store/l1-coherence.js";
import { createInvalidationChannel } from "../src/store/l1-invalidation-connections.js";
import { MemoryStore } from "../src/store/memory-store.js";
import type { RedisBackedStore } from "../src/store/redis-backed-store.js";
import { createRedisClusterStore } from "../src/store/redis-cluster-store.js";
import { parseRedisUrl } from "../src/store/redis-url.js";

/**
 * The L1 invalidation channel on a Redis Cluster that grows (ADR 0018): Redis pushes a change only to
 * the connections tracking on the node where it happens, so a master the pod has not discovered
 * pushes nothing to it. A pod that holds L1 copies and has no reason to talk to Redis (every read an
 * L1 hit) must still learn of a new master, and stop trusting L1 until it is armed there.
 */
const PREFIX = "p";
const HOST = "127.0.0.1";

describe("the L1 invalidation channel when a master joins the cluster", () => {
  let cluster: RedisCluster;
  let joined: Spawned | undefined;
  let dir: string;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    dir = await mkdtemp(join(tmpdir(), "apicache-redis-join-"));
  }, 60_000);

  afterAll(async () => {
    await joined?.stop();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("drops the L1 copies of a pod that never asks Redis, once a slot moved to the new master", async () => {
    const store: RedisBackedStore = createRedisClusterStore({
      nodes: cluster.nodes,
      keyPrefix: PREFIX,
      commandTimeoutMs: 200,
    });
    const l1 = new MemoryStore({ maxBytes: 1 << 20 });
    const coherence = new L1Coherence({ target: l1 });
    const channel = createInvalidationChannel({
      target: parseRedisUrl(cluster.url),
      keyPrefix: PREFIX,
      coherence,
      client: store.client,
      commandTimeoutMs: 200,
    });
    const admins: Redis[] = [];
    const admin = (port: number) => {
      const client = new Redis({ host: HOST, port, protocol: 2 });
      client.on("error", () => {
        // the new node is not listening yet: retried
      });
      admins.push(client);
      return client;
    };
    try {
      await store.ready();
      await waitFor("the channel to be armed on every master", () => coherence.serving);
      const generation = `${PREFIX}:g|t`;
      l1.put("item", Buffer.from("v1"), { ttlMs: 600_000, tags: ["t"] });

      // A fourth master joins, and the slot of the tag's generation moves to it (no keys in it yet).
      const port = await clusterPort();
      joined = spawnTracked("redis-server", [
        ...["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir],
        ...["--protected-mode", "no", "--cluster-enabled", "yes", "--cluster-config-file", "joined.conf"],
      ]);
      const fresh = admin(port);
      await waitFor("the new node to answer", () => fresh.ping().catch(() => false));
      const first = cluster.nodes[0] as { port: number };
      await admin(first.port).cluster("MEET", HOST, port);
      await waitFor("the new node to know the cluster", async () => {
        const nodes = String(await fresh.cluster("NODES"))
          .trim()
          .split("\n");
        return nodes.length === 4 && nodes.every((line) => line.includes("connected"));
      });
      // SETSLOT … NODE names the new node: every node must have heard of it by gossip first.
      const freshId = String(await fresh.cluster("MYID"));
      await waitFor("every node to know the new one", async () => {
        for (const node of cluster.nodes) {
          const known = String(await admin(node.port).cluster("NODES"));
          if (!known.split("\n").some((line) => line.startsWith(freshId) && line.includes("connected")))
            return false;
        }
        return true;
      });
      const slot = Number(await fresh.cluster("KEYSLOT", generation));
      const ranges = await admin(first.port).cluster("SLOTS");
      const range = ranges.find(([start, end]) => slot >= start && slot <= end);
      const [, ownerPort, ownerId] = range?.[2] ?? ["", 0, ""];
      await fresh.cluster("SETSLOT", slot, "IMPORTING", ownerId);
      await admin(ownerPort).cluster("SETSLOT", slot, "MIGRATING", freshId);
      for (const node of [port, ...cluster.nodes.map((n) => n.port)]) {
        await admin(node).cluster("SETSLOT", slot, "NODE", freshId);
      }

      // Another pod writes the tag through the new master: only its trackers hear of it.
      await waitFor("the new master to take writes of the slot", () =>
        fresh.set(generation, "another pod's write").catch(() => false),
      );
      await waitFor(
        "the pod to drop its copy, or to stop trusting L1",
        () => l1.lookup("item") === undefined || !coherence.serving,
        { timeoutMs: 10_000 },
      );
      await waitFor("the channel to be armed on the new master too", () => coherence.serving);
      expect(channel.up).toBe(true);
    } finally {
      for (const client of admins) client.disconnect();
      await channel.close();
      await store.close();
    }
  }, 60_000);
});

/** A port P whose cluster bus port P+10000 is free too. */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 < 65_536 && (await isPortFree(port + 10_000))) return port;
  }
}
