import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { type PartitionRelay, startPartitionRelay } from "@apicache/testkit/tcp-partition";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "./support/harness.js";
import { metric } from "./support/metrics.js";
import { type Replica, type Replicas, startReplicas } from "./support/replicas.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * Three replicas cut from their Redis all at once (a partition: packets dropped, nothing closed),
 * as when the node's network to Redis fails. Reads keep answering from the upstream; a read through
 * any replica that starts after a write's response never returns the data from before the write —
 * also in the first moments of the partition, before a replica has noticed its invalidation channel
 * went silent (its L1 still holds copies that a push can no longer drop).
 */
const HOST = { host: "api.test.svc" };
/** How long the writes and reads go on after the cut: past the channel's heartbeat (1 s) twice over. */
const CUT_MS = 3_000;

describe("three replicas partitioned from Redis", () => {
  let redis: RedisServer;
  let relay: PartitionRelay;
  let upstream: TestUpstream;
  let replicas: Replicas;
  let version = 0;

  beforeAll(async () => {
    redis = await startRedis();
    relay = await startPartitionRelay({ host: redis.host, port: redis.port });
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      if (req.method === "PUT") version += 1;
      res.end(JSON.stringify({ version }));
    });
    replicas = await startReplicas({
      count: 3,
      upstream: upstream.url,
      redisUrl: `redis://${relay.host}:${relay.port}`,
      spec: {
        store: { redis: { urlSecretRef: { name: "r", key: "url" }, commandTimeout: "50ms" } },
        routes: [{ name: "item", path: "/item", ttl: "5m", tags: ["item"] }],
        invalidate: [{ name: "item-written", path: "/item", tags: ["item"] }],
      },
    });
  }, 90_000);

  afterAll(async () => {
    await replicas?.stop();
    await upstream?.close();
    await relay?.close();
    await redis?.stop();
  });

  const read = async (replica: Replica) => {
    const answer = await send(replica.proxy, "/item", { headers: HOST });
    expect(answer.status).toBe(200);
    return { version: (JSON.parse(answer.body) as { version: number }).version, how: answer.cacheStatus };
  };
  const write = async (replica: Replica) => {
    const answer = await send(replica.proxy, "/item", { method: "PUT", headers: HOST, body: "{}" });
    expect(answer.status).toBe(200);
    return (JSON.parse(answer.body) as { version: number }).version;
  };

  it("never serves data from before a write, from the moment of the cut until Redis is back", async () => {
    const all = replicas.replicas;
    for (const replica of all) {
      await waitFor(`replica ${replica.index}'s invalidation channel`, async () => {
        return (await metric(replica.admin, "apicache_l1_invalidation_channel_up")) === 1;
      });
    }
    // Every replica holds the item in L1.
    await waitFor("every replica to serve the item from its cache", async () => {
      const answers = await Promise.all(all.map(read));
      return answers.every((answer) => /^apicache; hit/.test(answer.how));
    });

    relay.cut();
    const stale: string[] = [];
    let writes = 0;
    const cutAt = Date.now();
    try {
      while (Date.now() - cutAt < CUT_MS) {
        const writer = all[writes % all.length] as Replica;
        const written = await write(writer);
        writes += 1;
        for (const replica of all) {
          const answer = await read(replica);
          if (answer.version < written)
            stale.push(
              `${Date.now() - cutAt} ms: through ${replica.index} after a write through ${writer.index}: ${answer.how}`,
            );
        }
      }
    } finally {
      relay.heal();
    }
    expect({ writes: writes > 5, stale: stale.slice(0, 10), count: stale.length }).toEqual({
      writes: true,
      stale: [],
      count: 0,
    });
    // Back: caching resumes, and reads after a write are still never stale.
    await waitFor(
      "every replica to serve from its cache again",
      async () => {
        const answers = await Promise.all(all.map(read));
        return answers.every((answer) => /^apicache; hit/.test(answer.how));
      },
      { timeoutMs: 30_000 },
    );
    const written = await write(all[0] as Replica);
    const late: string[] = [];
    for (const replica of all) {
      const answer = await read(replica);
      if (answer.version < written) late.push(`through ${replica.index}: ${answer.version}, ${answer.how}`);
    }
    expect(late).toEqual([]);
  }, 90_000);
});
