import { type RedisCluster, startRedisCluster } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aclSetUserArguments, redisAclRule } from "../src/store/redis-acl.js";
import { entryKey } from "../src/store/redis-layout.js";
import { send } from "./support/harness.js";
import { metric as adminMetric } from "./support/metrics.js";
import { type Replica, type Replicas, startReplicas } from "./support/replicas.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * The per-tenant ACL on Redis Cluster (`topology: "cluster"`, the user created on every node): two
 * replicas on tenant A's user cache, invalidate and push L1 invalidations with nothing refused on any
 * node; A's user gets NOPERM on B's keys wherever they live.
 */
const HOST = { host: "api.test" };
const PREFIX = "team-a/api";
const USER = { name: "apicache-team-a", password: "cluster-a-pass-3e9f" };

/** A metric of a replica's /metrics, summed over the series with these labels. */
const metric = (replica: Replica, name: string, labels: Record<string, string> = {}) =>
  adminMetric(replica.admin, name, labels);

describe("per-tenant Redis ACLs on Redis Cluster", () => {
  let cluster: RedisCluster;
  let nodes: Redis[];
  let upstream: TestUpstream;
  let replicas: Replicas;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    nodes = cluster.nodes.map((node) => new Redis(node.port, node.host));
    const rule = redisAclRule({ namespace: "team-a", topology: "cluster" });
    for (const node of nodes) await node.call("ACL", ...aclSetUserArguments(USER.name, USER.password, rule));
    let version = 0;
    upstream = await startUpstream((req, res) => {
      if (req.method !== "GET") version++;
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
      res.end(JSON.stringify({ path: req.url, version }));
    });
    const hosts = cluster.nodes.map((node) => `${node.host}:${node.port}`).join(",");
    replicas = await startReplicas({
      count: 2,
      upstream: upstream.url,
      redisUrl: `redis+cluster://${USER.name}:${USER.password}@${hosts}`,
      spec: {
        store: {
          redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix: PREFIX, commandTimeout: "250ms" },
        },
        routes: [{ name: "items", path: "/items/:id", ttl: "5m", tags: ["items"] }],
        invalidate: [{ name: "item-written", methods: ["POST"], path: "/items/**", tags: ["items"] }],
      },
    });
    for (const replica of replicas.replicas) {
      await waitFor(
        `replica ${replica.index}'s L1 invalidation channel on every master`,
        async () => (await metric(replica, "apicache_l1_invalidation_channel_up")) === 1,
      );
    }
  }, 90_000);

  afterAll(async () => {
    await replicas?.stop();
    await upstream?.close();
    for (const node of nodes ?? []) node.disconnect();
    await cluster?.stop();
  });

  it("caches, shares, invalidates and pushes with nothing refused on any node", async () => {
    const [first, second] = replicas.replicas as [Replica, Replica];
    for (const id of [1, 2, 3, 4]) await send(first.proxy, `/items/${id}`, { headers: HOST });
    for (const id of [1, 2, 3, 4]) {
      await waitFor(`/items/${id} to be a hit on the second replica`, async () =>
        /;\s*hit/.test((await send(second.proxy, `/items/${id}`, { headers: HOST })).cacheStatus),
      );
    }
    const write = await send(first.proxy, "/items/1", { method: "POST", headers: HOST, body: "{}" });
    expect(write.status).toBe(200);
    const after = await send(second.proxy, "/items/3", { headers: HOST });
    expect(after.cacheStatus).not.toMatch(/;\s*hit/);
    expect(JSON.parse(after.body).version).toBe(1);
    const refused = await Promise.all(nodes.map((node) => node.call("ACL", "LOG") as Promise<unknown[]>));
    expect(refused.map((entries) => entries.length)).toEqual(nodes.map(() => 0));
    const warnings = replicas.replicas.flatMap((replica) =>
      replica.process
        .logs()
        .filter((line) => /^(warn|error|fatal)$/.test(String(line.level)))
        .map((line) => String(line.msg)),
    );
    expect(warnings).toEqual([]);
  });

  it("refuses B's keys to A's user on the node that holds them", async () => {
    const a = new Redis.Cluster(
      cluster.nodes.map((node) => ({ host: node.host, port: node.port })),
      {
        redisOptions: { username: USER.name, password: USER.password },
      },
    );
    try {
      for (const id of [1, 2, 3]) {
        const key = entryKey("team-b/api", `GET|http|api.test||/items/${id}|public`);
        await expect(a.get(key)).rejects.toThrow(/^NOPERM/);
        await expect(a.set(key, "poisoned")).rejects.toThrow(/^NOPERM/);
      }
    } finally {
      a.disconnect();
    }
  });
});
