import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { type PartitionRelay, startPartitionRelay } from "@apicache/testkit/tcp-partition";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "./support/harness.js";
import { metric } from "./support/metrics.js";
import { type Replica, type Replicas, startReplicas } from "./support/replicas.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * Two replicas cut from Redis, healed before the invalidation channel's silence (1 s) takes any
 * channel down (ADR 0018, "A partition from Redis"; review finding D1). A's circuit is open and its
 * lease lapsed before the write, so the write's invalidation is queued (never sent) and held while
 * A cannot hear Redis. At the heal the PONGs renew every lease at once: B serves L1 again, so A must
 * probe its circuit and retry its queue then — not after the circuit's cool-down and the backoff.
 * A read through B after the write's response never returns the data from before the write.
 */
const HOST = { host: "api.test.svc" };
/** The channel's silence: a heal later than this takes channels down (a different scenario). */
const SILENCE_MS = 1_000;

describe("two replicas partitioned from Redis for less than the channel's silence", () => {
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
      if (req.method === "PUT" && req.url === "/item") version += 1;
      res.end(JSON.stringify({ version }));
    });
    replicas = await startReplicas({
      count: 2,
      upstream: upstream.url,
      redisUrl: `redis://${relay.host}:${relay.port}`,
      spec: {
        store: { redis: { urlSecretRef: { name: "r", key: "url" }, commandTimeout: "50ms" } },
        routes: [
          { name: "item", path: "/item", ttl: "5m", tags: ["item"] },
          { name: "other", path: "/other/*", ttl: "5m" },
        ],
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

  const read = async (replica: Replica, path = "/item") => {
    const answer = await send(replica.proxy, path, { headers: HOST });
    expect(answer.status).toBe(200);
    return {
      version: (JSON.parse(answer.body) as { version: number }).version,
      how: answer.cacheStatus ?? "",
    };
  };

  /**
   * One run of the scenario. B must never serve stale, whatever happens; the run only counts as this
   * scenario when its premise held (the heal came before the channel's silence, and no channel of A
   * went down) — on a starved machine the cut-to-heal steps can take longer, and the run is repeated.
   */
  const scenario = async (a: Replica, b: Replica) => {
    for (const replica of [a, b]) {
      await waitFor(
        "channel up",
        async () => (await metric(replica.admin, "apicache_l1_invalidation_channel_up")) === 1,
      );
    }
    await waitFor("both serve /item from L1", async () => {
      const answers = await Promise.all([a, b].map((replica) => read(replica)));
      return answers.every((answer) => /^apicache; hit/.test(answer.how));
    });
    await waitFor(
      "A's circuit closed",
      async () => (await metric(a.admin, "apicache_store_circuit_open")) === 0,
    );
    const downFlushes = await metric(a.admin, "apicache_l1_flushes_total", { reason: "channel_down" });
    const refusals = await metric(a.admin, "apicache_l1_lease_refusals_total");

    const cutAt = performance.now();
    relay.cut();
    // A's circuit opens (each L2 read of an uncached path times out) and A's lease lapses (an L1
    // copy refused), both before the write: its invalidation is never sent, and A cannot hear Redis
    // when the hold starts.
    let other = 0;
    await waitFor(
      "A's circuit open and its lease lapsed",
      async () => {
        await read(a, `/other/${attempts}-${other++}`);
        await read(a);
        return (
          (await metric(a.admin, "apicache_store_circuit_open")) === 1 &&
          (await metric(a.admin, "apicache_l1_lease_refusals_total")) > refusals
        );
      },
      { timeoutMs: 5 * SILENCE_MS },
    );
    const writing = send(a.proxy, "/item", { method: "PUT", headers: HOST, body: "{}" });
    await waitFor(
      "A's write's invalidation queued (held)",
      async () => (await metric(a.admin, "apicache_store_pending_invalidations")) >= 1,
      { timeoutMs: 5 * SILENCE_MS, intervalMs: 5 },
    );
    relay.heal();
    const healedAt = performance.now() - cutAt;

    const answer = await writing;
    const answeredAt = performance.now() - cutAt;
    expect(answer.status).toBe(200);
    const written = (JSON.parse(answer.body) as { version: number }).version;
    const stale: string[] = [];
    const until = performance.now() + 2_000;
    while (performance.now() < until) {
      const seen = await read(b);
      if (seen.version < written)
        stale.push(`${Math.round(performance.now() - cutAt)} ms: v${seen.version} (${seen.how})`);
    }
    // On failure, what a future flake needs: when the heal and the answer fell (ms after the cut), how
    // long A held the write (about a hold, 650-700 ms: answered at its deadline; a few ms: applied at
    // the heal, so B missed a push), A's warnings, and the first and last stale reads.
    const timeline = {
      healedAt: Math.round(healedAt),
      answeredAt: Math.round(answeredAt),
      writeHoldSeconds: {
        sum: await metric(a.admin, "apicache_write_hold_seconds_sum"),
        count: await metric(a.admin, "apicache_write_hold_seconds_count"),
      },
      warnings: a.process
        .logs()
        .filter((line) => line.level === "warn" || line.level === "error")
        .map((line) => line.msg)
        .slice(-5),
      stale: stale.length,
      first: stale[0],
      last: stale.at(-1),
    };
    expect(stale, JSON.stringify(timeline)).toEqual([]);
    const channelStayedUp =
      (await metric(a.admin, "apicache_l1_flushes_total", { reason: "channel_down" })) === downFlushes;
    return { premise: healedAt < SILENCE_MS && channelStayedUp, timeline };
  };
  let attempts = 0;

  it("retries the held write's invalidation when the lease is renewed at the heal: B never serves stale", async () => {
    const [a, b] = replicas.replicas as [Replica, Replica];
    const missed: unknown[] = [];
    while (attempts < 3) {
      attempts++;
      const run = await scenario(a, b);
      if (run.premise) return;
      missed.push(run.timeline);
    }
    expect.fail(
      `the scenario's premise (healed before the channel's silence, no channel down) never held: ${JSON.stringify(missed)}`,
    );
  }, 60_000);
});
