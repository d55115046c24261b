import { randomUUID } from "node:crypto";
import { type RedisCluster, startRedisCluster } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStoreParts } from "../src/store/create-store.js";
import type { InvalidationGuardStore } from "../src/store/invalidation-guard-store.js";
import { generationKey } from "../src/store/redis-layout.js";

/**
 * A Redis Cluster failover (CLUSTER FAILOVER under load, the fault suite's redis-cluster-failover row)
 * moves every slot of a primary to its replica. Commands the client had already sent to the old owner
 * are answered `MOVED <slot> <new owner>`; ioredis follows a redirection by itself only when every
 * command of an (auto-)pipeline got the same one, so commands of different slots pipelined to that
 * node each get their own raw `MOVED` reply. An invalidation that gets one must be retried (the slots
 * are refreshed), not given up as a command Redis refused — given up, it is lost, and other pods
 * serve the entries it concerned until they expire.
 *
 * Reproduced without a failover's timing: two empty slots of one master are reassigned to another
 * (CLUSTER SETSLOT … NODE) behind the store's back, then the store invalidates a tag in each.
 */
let cluster: RedisCluster;
let admin: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
  admin = new Cluster(
    cluster.nodes.map((node) => ({ ...node })),
    { lazyConnect: true },
  );
  await admin.connect();
});

afterAll(async () => {
  admin?.disconnect();
  await cluster?.stop();
});

/** Node id and address of each master, and which master serves a slot. */
async function topology() {
  const slots = (await admin.cluster("SLOTS")) as unknown as [number, number, [string, number, string]][];
  const owner = (slot: number) => {
    const range = slots.find(([from, to]) => from <= slot && slot <= to);
    if (range === undefined) throw new Error(`slot ${slot} unassigned`);
    const [host, port, id] = range[2];
    return { host, port, id };
  };
  const ids = [...new Map(slots.map((range) => [range[2][2], range[2]])).values()];
  return { owner, masters: ids.map(([host, port, id]) => ({ host, port, id })) };
}

describe("an invalidation whose slots moved to another master (a cluster failover)", () => {
  it("is retried until the new owner applies it, not given up as refused", async () => {
    const prefix = `moved-${randomUUID()}`;
    const parts = createStoreParts({
      redisUrl: cluster.url,
      keyPrefix: prefix,
      commandTimeoutMs: 500,
      memoryMaxBytes: 0,
      maxEntryAgeMs: 0,
    });
    const store = parts.store as InvalidationGuardStore;
    try {
      // The store's client learns the slots (on connect) before they move.
      await store.get("warm-up");
      const { owner, masters } = await topology();
      const slotOf = async (tag: string) =>
        Number(await admin.cluster("KEYSLOT", generationKey(prefix, tag)));
      // Two tags whose generations live in different slots of the same master.
      const first = { tag: "t0", slot: await slotOf("t0") };
      const source = owner(first.slot);
      let second: { tag: string; slot: number } | undefined;
      for (let i = 1; second === undefined; i++) {
        const slot = await slotOf(`t${i}`);
        if (slot !== first.slot && owner(slot).id === source.id) second = { tag: `t${i}`, slot };
      }
      const target = masters.find((master) => master.id !== source.id) as (typeof masters)[number];
      // Move both (empty) slots to the other master, on every node, the new owner first.
      const nodes = [target, source, ...masters.filter((m) => m.id !== target.id && m.id !== source.id)];
      for (const node of nodes) {
        const direct = admin.nodes("master").find((redis) => Number(redis.options.port) === node.port);
        if (direct === undefined) throw new Error(`no connection to ${node.port}`);
        for (const { slot } of [first, second]) await direct.cluster("SETSLOT", slot, "NODE", target.id);
      }
      // Generations exist on the new owner (written through a client that follows the move).
      for (const { tag } of [first, second]) await admin.set(generationKey(prefix, tag), "1");

      await expect(store.deleteTags([first.tag, second.tag])).resolves.toBeGreaterThanOrEqual(0);
      await waitFor("the invalidation to reach the new owner", async () => store.pending === 0, {
        timeoutMs: 10_000,
      });
      for (const { tag } of [first, second]) expect(await admin.exists(generationKey(prefix, tag))).toBe(0);
    } finally {
      await store.close();
    }
  }, 30_000);
});
