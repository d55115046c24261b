import { randomUUID } from "node:crypto";
import { type RedisCluster, startRedisCluster } from "@apicache/testkit/redis";
import { startDelayRelay } from "@apicache/testkit/tcp-delay";
import { waitFor } from "@apicache/testkit/wait";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Coordination, createRedisCoordination } from "../src/store/fill-lease.js";
import type { RedisBackedStore } from "../src/store/redis-backed-store.js";
import { createRedisClusterStore } from "../src/store/redis-cluster-store.js";
import { createRedisStore } from "../src/store/redis-store.js";
import { sharedRedis } from "./shared-redis.js";

/**
 * The fill notifications' subscription (fill-notifications.ts) against real Redis, while its
 * connection drops, comes back and is closed: the sidecar subscribes again itself, once per
 * connection, and no SUBSCRIBE is ever left rejected without a handler — an unhandled rejection ends
 * a Node process, so a Redis blip or a shutdown must not produce one.
 */
const COMMAND_TIMEOUT_MS = 20;
const LEASE_MS = 1_000;

interface Pod {
  readonly store: RedisBackedStore;
  readonly coordination: Coordination;
}

function coordinate(store: RedisBackedStore, prefix: string): Pod {
  const coordination = createRedisCoordination({
    client: store.client,
    prefix,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    available: () => true,
  });
  return { store, coordination };
}

function standalonePod(prefix: string, node: { host: string; port: number }): Pod {
  const options = {
    keyPrefix: prefix,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    reconnect: { baseMs: 20, maxMs: 100 },
  };
  return coordinate(createRedisStore({ node, ...options }), prefix);
}

/** Whether `to` hears `from`'s release: `from` takes a lease, `to` waits on it, `from` releases. */
async function hears(from: Pod, to: Pod): Promise<boolean> {
  const key = `probe-${randomUUID()}`;
  const taken = await from.coordination.fills.attempt(key, LEASE_MS);
  if (taken.kind !== "taken") return false;
  const held = await to.coordination.fills.attempt(key, LEASE_MS);
  await taken.release();
  if (held.kind !== "held") return false;
  return (await held.settled) === "woken";
}

async function stop(pods: readonly Pod[]): Promise<void> {
  for (const pod of pods) {
    await pod.coordination.close();
    await pod.store.close();
  }
}

/** The sidecar's connections Redis lists (the data client's and the subscriber's share its name). */
async function sidecarClients(admin: Redis): Promise<{ id: string; cmd: string }[]> {
  const list = (await admin.call("CLIENT", "LIST")) as string;
  return list
    .split("\n")
    .filter((line) => line.includes(" name=apicache-sidecar "))
    .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1] ?? "", cmd: /\bcmd=(\S+)/.exec(line)?.[1] ?? "" }));
}

async function subscribeCalls(admin: Redis): Promise<number> {
  const stats = await admin.info("commandstats");
  return Number(/^cmdstat_subscribe:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

const rejections: unknown[] = [];
const recordRejection = (reason: unknown) => rejections.push(reason);
beforeAll(() => {
  process.on("unhandledRejection", recordRejection);
});
afterAll(() => {
  process.off("unhandledRejection", recordRejection);
});
beforeEach(() => {
  rejections.length = 0;
});
afterEach(() => {
  expect(rejections, "unhandled rejections").toEqual([]);
});

describe("fill notifications on a standalone Redis", () => {
  const shared = sharedRedis();

  it("are subscribed again once per new connection, by the sidecar alone, after drops and a restart", async () => {
    const prefix = `notify-${randomUUID()}`;
    const pods = [standalonePod(prefix, shared.server), standalonePod(prefix, shared.server)] as const;
    const [a, b] = pods;
    const both = async () => (await hears(a, b)) && (await hears(b, a));
    try {
      await waitFor("both pods to hear each other", both);
      for (let round = 0; round < 5; round++) {
        const before = await subscribeCalls(shared.admin);
        await shared.admin.call("CLIENT", "KILL", "TYPE", "pubsub");
        await waitFor(`both pods to hear each other after drop ${round + 1}`, both);
        // One SUBSCRIBE per pod: ioredis's own resubscription (its promise dropped) would be a second.
        expect(await subscribeCalls(shared.admin)).toBe(before + 2);
      }
      await shared.restart();
      await waitFor("both pods to hear each other after the restart", both, { timeoutMs: 15_000 });
      expect(await subscribeCalls(shared.admin)).toBe(2);
    } finally {
      await stop(pods);
    }
  });

  it("close without an unhandled rejection while a reconnection's ready check is on its way", async () => {
    // Through a relay that slows Redis's answers: the subscriber's connection, dropped, reconnects
    // and sends its ready check (INFO); the pod closes before the answer arrives. The answer still
    // arrives (the socket closed only its sending side), and ioredis's `ready` runs on a stream that
    // can no longer be written: had it SUBSCRIBEd again itself, that rejection had no handler.
    const relay = await startDelayRelay(shared.server);
    const pod = standalonePod(`notify-${randomUUID()}`, relay);
    try {
      await waitFor("the pod to hear its own releases", () => hears(pod, pod));
      const known = new Set((await sidecarClients(shared.admin)).map((client) => client.id));
      relay.setDelay(500);
      await shared.admin.call("CLIENT", "KILL", "TYPE", "pubsub");
      await waitFor("the subscriber's new connection to send its ready check", async () =>
        (await sidecarClients(shared.admin)).some((client) => !known.has(client.id) && client.cmd === "info"),
      );
      await stop([pod]);
      await waitFor("every connection through the relay to close", () => relay.connections === 0);
      await new Promise((resolve) => setImmediate(resolve)); // a rejection is reported after its turn
    } finally {
      await relay.close();
    }
  });
});

describe("fill notifications on a Redis Cluster", () => {
  let cluster: RedisCluster;
  let admins: Redis[];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    admins = cluster.nodes.map((node) => new Redis({ ...node, lazyConnect: true }));
    await Promise.all(admins.map((admin) => admin.connect()));
  });

  afterAll(async () => {
    for (const admin of admins ?? []) admin.disconnect();
    await cluster?.stop();
  });

  it("are subscribed again after their node's connection drops (ioredis picks a node and resubscribes)", async () => {
    const prefix = `notify-${randomUUID()}`;
    const pod = () =>
      coordinate(
        createRedisClusterStore({
          nodes: cluster.nodes,
          keyPrefix: prefix,
          commandTimeoutMs: COMMAND_TIMEOUT_MS,
          reconnect: { baseMs: 20, maxMs: 100 },
        }),
        prefix,
      );
    const pods = [pod(), pod()] as const;
    const [a, b] = pods;
    const both = async () => (await hears(a, b)) && (await hears(b, a));
    try {
      await waitFor("both pods to hear each other", both, { timeoutMs: 15_000 });
      for (let round = 0; round < 5; round++) {
        await Promise.all(admins.map((admin) => admin.call("CLIENT", "KILL", "TYPE", "pubsub")));
        await waitFor(`both pods to hear each other after drop ${round + 1}`, both, { timeoutMs: 15_000 });
      }
    } finally {
      await stop(pods);
    }
  });
});
