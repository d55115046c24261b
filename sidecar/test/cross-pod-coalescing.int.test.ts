import type { IncomingMessage, ServerResponse } from "node:http";
import { startRedis, startRedisCluster } from "@apicache/testkit/redis";
import { startRedisSentinel } from "@apicache/testkit/redis-sentinel";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fillLeaseMs } from "../src/store/lease-layout.js";
import { FILL_LEASE_OUTCOMES, WARM_RUN_OUTCOMES } from "../src/telemetry/metric-names.js";
import { type Answer, send } from "./support/harness.js";
import { type Replica, type Replicas, startReplicas } from "./support/replicas.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * Issue #14, acceptance items 2, 4 and 5 (ADR 0019): three sidecar processes sharing one store
 * coalesce a cold key's misses into one upstream request, survive the death of the pod fetching it,
 * and warm each spec.warm entry once per interval between them. One table row per topology, as the
 * issue lists them: one Redis, a Cluster, and Sentinel (leases, their wake-up channel and the warm
 * slots live on the primary the sentinels name). Each row starts its store once for all its cases.
 */
interface Topology {
  readonly name: string;
  /** The Redis tier's name in the store metrics: which client the replicas built from the URL. */
  readonly store: string;
  start(): Promise<{ readonly url: string; stop(): Promise<void> }>;
}

const TOPOLOGIES: readonly Topology[] = [
  { name: "one Redis", store: "redis", start: startRedis },
  { name: "a 3-node Redis Cluster", store: "redis-cluster", start: startRedisCluster },
  {
    name: "Redis Sentinel (a primary, two replicas, three sentinels)",
    store: "redis-sentinel",
    start: () => startRedisSentinel(),
  },
];

/** Clients reach every replica through one Service name: the Host (part of the key) is the same. */
const HOST = { host: "api.test.svc" };
const UPSTREAM_TIMEOUT_MS = 1_000;
const SLOW_MS = 300;
const WARM_EVERY_MS = 10_000;
/** 7 × SLOW_MS = 2.1 s: longer than the lease (the upstream timeout, 1 s, plus 250 ms). */
const TRICKLE_CHUNKS = 7;
const WARM_PATHS = ["/warm/a", "/warm/b"];

/** The value of a counter in a replica's /metrics, summed over the series matching the labels. */
async function counter(replica: Replica, name: string, labels: Record<string, string>): Promise<number> {
  const text = (await send(replica.admin, "/metrics")).body;
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

/** A replica's fill lease outcomes on one route, by outcome (the zeros left out). */
async function leaseOutcomes(replica: Replica, route: string): Promise<Record<string, number>> {
  const counts = await Promise.all(
    FILL_LEASE_OUTCOMES.map(async (outcome) => {
      return [outcome, await counter(replica, "apicache_fill_leases_total", { route, outcome })] as const;
    }),
  );
  return Object.fromEntries(counts.filter(([, count]) => count > 0));
}

/** Every replica's warnings and errors so far (a store timeout, an open circuit, lost notifications). */
function warnings(replicas: Replicas): string[] {
  return replicas.replicas.flatMap((replica) =>
    replica.process
      .logs()
      .filter((line) => /^(warn|error|fatal)$/.test(String(line.level)))
      .map((line) => `${replica.index} ${String(line.time)} ${String(line.msg)}`),
  );
}

describe.each(TOPOLOGIES)("three replicas on $name", (topology) => {
  let store: { readonly url: string; stop(): Promise<void> };
  let upstream: TestUpstream;
  let replicas: Replicas;
  /** When each upstream GET arrived, by path. */
  const arrivals = new Map<string, number[]>();
  /** Requests the upstream holds and never answers (their pod is killed). */
  const held: ServerResponse[] = [];
  const answer = (res: ServerResponse, path: string) => {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
    res.end(JSON.stringify({ path, at: Date.now() }));
  };
  const arrived = (path: string) => arrivals.get(path)?.length ?? 0;
  /** Headers at once, then the body in TRICKLE_CHUNKS parts SLOW_MS apart: a fill that outlives its lease. */
  const trickle = (res: ServerResponse, path: string) => {
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=300" });
    const at = Date.now();
    let sent = 0;
    const next = () => {
      res.write(`${path} ${at} part ${sent}\n`);
      if (++sent === TRICKLE_CHUNKS) res.end();
      else setTimeout(next, SLOW_MS);
    };
    setTimeout(next, SLOW_MS);
  };

  beforeAll(async () => {
    store = await topology.start();
    upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? "").split("?")[0] as string;
      arrivals.set(path, [...(arrivals.get(path) ?? []), Date.now()]);
      if (path === "/items/held" && arrived(path) === 1) return void held.push(res);
      if (path.startsWith("/trickle/")) return trickle(res, path);
      setTimeout(() => answer(res, path), path.startsWith("/warm/") ? 0 : SLOW_MS);
    });
    replicas = await startReplicas({
      count: 3,
      upstream: upstream.url,
      redisUrl: store.url,
      spec: {
        upstream: { port: 8080, timeout: `${UPSTREAM_TIMEOUT_MS}ms` },
        // 2 cores shared by 3 sidecars, Redis, the upstream and 300 clients: a 50 ms command timeout
        // would open the circuit (fail open, no leases) on scheduling delays alone.
        store: { redis: { urlSecretRef: { name: "r", key: "url" }, commandTimeout: "250ms" } },
        routes: [
          { name: "items", path: "/items/:id", ttl: "5m" },
          { name: "warm", path: "/warm/:id", ttl: "5m" },
          { name: "trickle", path: "/trickle/:id", ttl: "5m" },
          { name: "probe", path: "/probe/:id", ttl: "5m" },
          // Expires after a second and is then refetched in the foreground (kept for staleIfError).
          {
            name: "expiring",
            path: "/expiring/:id",
            ttl: "1s",
            staleWhileRevalidate: "0s",
            staleIfError: "10m",
          },
        ],
        warm: WARM_PATHS.map((path) => ({ path, every: `${WARM_EVERY_MS / 1000}s`, host: HOST.host })),
      },
    });
    for (const replica of replicas.replicas) await armed(replica);
  }, 90_000);

  /**
   * A replica listens before it coalesces across pods: until its L1 invalidation channel is armed its
   * coalescer is isolated (ADR 0018: each request fills alone), and until its fill notifications are
   * subscribed its misses fill locally (lease "unavailable"). The cases are about replicas past that.
   */
  async function armed(replica: Replica): Promise<void> {
    await waitFor(
      `replica ${replica.index}'s L1 invalidation channel`,
      async () => (await counter(replica, "apicache_l1_invalidation_channel_up", {})) === 1,
    );
    const taken = () => counter(replica, "apicache_fill_leases_total", { route: "probe", outcome: "taken" });
    let probes = 0;
    await waitFor(`replica ${replica.index} to take a fill lease`, async () => {
      const before = await taken();
      await send(replica.proxy, `/probe/${replica.index}-${probes++}`, { headers: HOST });
      return (await taken()) > before;
    });
  }

  afterAll(async () => {
    for (const res of held) res.destroy();
    await replicas?.stop();
    await upstream?.close();
    await store?.stop();
  });

  it("sends one upstream request for 300 concurrent misses of a cold key spread over the three", async () => {
    const path = "/items/cold";
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const replica = replicas.replicas[i % 3] as Replica;
        return send(replica.proxy, path, { headers: HOST });
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    // The row's first test: these are its lease outcomes. Should a pod have asked the upstream too (it
    // filled locally: Redis slow, its circuit open, its notifications down), they and the logs say why.
    const leases = await Promise.all(replicas.replicas.map((r) => leaseOutcomes(r, "items")));
    const upstreamGets = arrived(path);
    expect({
      upstreamGets,
      ...(upstreamGets === 1 ? {} : { leases, warnings: warnings(replicas) }),
    }).toEqual({ upstreamGets: 1 });
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    const redisGets = await Promise.all(
      replicas.replicas.map((r) =>
        counter(r, "apicache_store_operation_duration_seconds_count", {
          store: topology.store,
          operation: "get",
        }),
      ),
    );
    // Each replica looked the key up in the row's Redis tier (its L1 was cold).
    expect(redisGets.map((count) => count > 0)).toEqual([true, true, true]);
    const woken = leases.map((outcomes) => outcomes.woken ?? 0);
    // The two other pods waited for the holder's fill and were woken by its release. The holder's own
    // later requests may too: the fill's fence creates the tags' generations, Redis pushes that to every
    // pod (ADR 0018), and a pushed tag detaches the pod's flights carrying it, the holder's included.
    expect(woken.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
  });

  it("sends one upstream request when an expired entry is refetched through the three", async () => {
    const path = "/expiring/x";
    expect((await send(replicas.replicas[0]?.proxy as string, path, { headers: HOST })).status).toBe(200);
    const storedAt = Date.now();
    await waitFor("the entry to go stale", () => Date.now() - storedAt > 1_200, { intervalMs: 50 });
    // Each pod's lookup finds the stale entry in Redis and keeps a copy in its L1 for maxEntryAge (1 s):
    // a pod woken by the holder's release must still read the holder's new entry, not that copy.
    const answers = await Promise.all(
      replicas.replicas.map((replica) => send(replica.proxy, path, { headers: HOST })),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(arrived(path)).toBe(2);
  });

  it("serves the holder's fill to pods that stopped waiting for it, when it lands before their own", async () => {
    const path = "/trickle/x";
    const first = send(replicas.replicas[0]?.proxy as string, path, { headers: HOST });
    await waitFor("the first fill to reach the upstream", () => arrived(path) === 1);
    const others = await Promise.all(
      replicas.replicas.slice(1).map((replica) => send(replica.proxy, path, { headers: HOST })),
    );
    const holder = await first;
    // The lease ended before the holder's fill did (2.1 s): the others asked their upstream too, but
    // the holder's entry was stored first and is what they answer, about when the holder answered.
    expect(arrived(path)).toBe(3);
    for (const other of others) {
      expect(other.status).toBe(200);
      expect(other.body).toBe(holder.body);
      expect(other.cacheStatus).toContain("detail=coalesced");
    }
  });

  it("answers within the lease time plus one upstream call when the lease holder dies mid-miss", async () => {
    const path = "/items/held";
    const leaseMs = fillLeaseMs(UPSTREAM_TIMEOUT_MS);
    const taken = () =>
      Promise.all(
        replicas.replicas.map((r) =>
          counter(r, "apicache_fill_leases_total", { route: "items", outcome: "taken" }),
        ),
      );
    const before = await taken();
    const pending = replicas.replicas.map((replica) =>
      send(replica.proxy, path, { headers: HOST }).then(
        (a) => ({ replica: replica.index, answer: a as Answer | undefined, at: Date.now() }),
        () => ({ replica: replica.index, answer: undefined, at: Date.now() }),
      ),
    );
    await waitFor("the first fill to reach the upstream", () => arrived(path) === 1);
    const firstAt = arrivals.get(path)?.[0] as number;
    // The pod whose request reached the upstream took the lease before it asked: its count moved.
    const holder = await waitFor("the lease holder", async () => {
      const now = await taken();
      return replicas.replicas[now.findIndex((count, index) => count > (before[index] ?? 0))];
    });
    try {
      await holder.process.kill();
      const others = (await Promise.all(pending)).filter((p) => p.replica !== holder.index);
      for (const other of others) {
        expect(other.answer?.status).toBe(200);
        expect(other.at - firstAt).toBeLessThan(leaseMs + SLOW_MS + 1_000);
      }
      expect(arrived(path)).toBeGreaterThan(1);
    } finally {
      await armed(await replicas.restart(holder.index));
    }
  });

  /** When each warm GET arrived (interval+offset), each replica's scheduled runs by outcome, warnings. */
  async function warmDiagnosis(): Promise<Record<string, unknown>> {
    const runs = await Promise.all(
      replicas.replicas.map(async (replica) =>
        Object.fromEntries(
          await Promise.all(
            WARM_RUN_OUTCOMES.map(async (outcome) => {
              return [outcome, await counter(replica, "apicache_warm_runs_total", { outcome })] as const;
            }),
          ),
        ),
      ),
    );
    const arrivedAt = Object.fromEntries(
      WARM_PATHS.map((path) => [
        path,
        (arrivals.get(path) ?? []).map((at) => `${Math.floor(at / WARM_EVERY_MS)}+${at % WARM_EVERY_MS}ms`),
      ]),
    );
    return { arrivedAt, runs, warnings: warnings(replicas) };
  }

  it("fetches each warm entry once per interval across the three", async () => {
    const slotsOf = (path: string) => (arrivals.get(path) ?? []).map((at) => Math.floor(at / WARM_EVERY_MS));
    // Three interval slots with a warm run each (the first began at start-up).
    await waitFor(
      "three warm intervals",
      () => WARM_PATHS.every((path) => new Set(slotsOf(path)).size >= 3),
      { timeoutMs: 4 * WARM_EVERY_MS, intervalMs: 200 },
    );
    const perInterval = (path: string) => {
      const perSlot = new Map<number, number>();
      for (const slot of slotsOf(path)) perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
      return [...perSlot.values()];
    };
    const twice = WARM_PATHS.filter((path) => perInterval(path).some((count) => count !== 1));
    // Should an interval have been warmed twice, when each GET arrived in its interval, what each
    // replica did with its scheduled runs, and what they warned about say why.
    expect({ twice, ...(twice.length === 0 ? {} : await warmDiagnosis()) }).toEqual({ twice: [] });
    const skipped = await Promise.all(
      replicas.replicas.map((r) =>
        counter(r, "apicache_warm_runs_total", { outcome: "skipped_other_replica" }),
      ),
    );
    expect(skipped.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }, 60_000);
});
