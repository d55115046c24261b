import type { IncomingMessage, ServerResponse } from "node:http";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fillChannel } from "../src/store/lease-layout.js";
import { aclSetUserArguments, redisAclRule } from "../src/store/redis-acl.js";
import { entryKey, generationKey, TAG_DRAIN_LUA, tagKey } from "../src/store/redis-layout.js";
import { send } from "./support/harness.js";
import { metric as adminMetric } from "./support/metrics.js";
import { type Replica, type Replicas, startReplicas } from "./support/replicas.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * Per-tenant Redis ACLs (docs/security.md): one ACL user per namespace, its rule from redisAclRule.
 * Two sidecar replicas on tenant A's user cache, invalidate, coalesce across pods and push L1
 * invalidations with no command refused (ACL LOG stays empty, no warning); with A's user, tenant B's
 * keys and channels answer NOPERM.
 */
const HOST = { host: "api.test" };
const A_PREFIX = "team-a/api";
const B_PREFIX = "team-b/api";
const SLOW_MS = 300;

const users = {
  a: { name: "apicache-team-a", password: "a-pass-7f1c" },
  b: { name: "apicache-team-b", password: "b-pass-93d2" },
};

/** A metric of a replica's /metrics, summed over the series with these labels. */
const metric = (replica: Replica, name: string, labels: Record<string, string> = {}) =>
  adminMetric(replica.admin, name, labels);

function warnings(replicas: Replicas): string[] {
  return replicas.replicas.flatMap((replica) =>
    replica.process
      .logs()
      .filter((line) => /^(warn|error|fatal)$/.test(String(line.level)))
      .map((line) => `${replica.index}: ${String(line.msg)} ${JSON.stringify(line.err ?? "")}`),
  );
}

/** ACL LOG entries as `user reason object` (Redis records every refused command, key and channel). */
async function aclLog(admin: Redis): Promise<string[]> {
  const entries = (await admin.call("ACL", "LOG")) as unknown[][];
  return entries.map((entry) => {
    const fields = new Map<string, unknown>();
    for (let i = 0; i < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
    return `${String(fields.get("username"))} ${String(fields.get("reason"))} ${String(fields.get("object"))}`;
  });
}

describe("per-tenant Redis ACLs", () => {
  let redis: RedisServer;
  let admin: Redis;
  let upstream: TestUpstream;
  let replicas: Replicas;
  const tenantUrl = (user: { name: string; password: string }) =>
    `redis://${user.name}:${user.password}@${redis.host}:${redis.port}`;
  const asTenant = (user: { name: string; password: string }) =>
    new Redis({
      host: redis.host,
      port: redis.port,
      username: user.name,
      password: user.password,
      protocol: 2,
    });

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.port, redis.host);
    await admin.call(
      "ACL",
      ...aclSetUserArguments(users.a.name, users.a.password, redisAclRule({ namespace: "team-a" })),
    );
    await admin.call(
      "ACL",
      ...aclSetUserArguments(users.b.name, users.b.password, redisAclRule({ namespace: "team-b" })),
    );
    let version = 0;
    upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? "").split("?")[0] as string;
      if (req.method !== "GET") version++;
      const body = JSON.stringify({ path, version });
      const reply = () => {
        res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
        res.end(body);
      };
      if (path.startsWith("/slow/")) setTimeout(reply, SLOW_MS);
      else reply();
    });
    replicas = await startReplicas({
      count: 2,
      upstream: upstream.url,
      redisUrl: tenantUrl(users.a),
      spec: {
        upstream: { port: 8080, timeout: "2s" },
        store: {
          redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix: A_PREFIX, commandTimeout: "250ms" },
        },
        routes: [
          { name: "items", path: "/items/:id", ttl: "5m", tags: ["items"] },
          { name: "slow", path: "/slow/:id", ttl: "5m" },
          { name: "probe", path: "/probe/:id", ttl: "5m" },
        ],
        invalidate: [{ name: "item-written", methods: ["POST"], path: "/items/**", tags: ["items"] }],
      },
    });
    for (const replica of replicas.replicas) await armed(replica);
  }, 90_000);

  /** Until its L1 channel is armed and its fill notifications subscribed, a replica coalesces alone. */
  async function armed(replica: Replica): Promise<void> {
    await waitFor(
      `replica ${replica.index}'s L1 invalidation channel`,
      async () => (await metric(replica, "apicache_l1_invalidation_channel_up")) === 1,
    );
    const taken = () => metric(replica, "apicache_fill_leases_total", { route: "probe", outcome: "taken" });
    let probes = 0;
    await waitFor(`replica ${replica.index} to take a fill lease`, async () => {
      const before = await taken();
      await send(replica.proxy, `/probe/${replica.index}-${probes++}`, { headers: HOST });
      return (await taken()) > before;
    });
  }

  afterAll(async () => {
    await replicas?.stop();
    await upstream?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  describe("with tenant A's user, A's sidecars", () => {
    const [first, second] = [0, 1];
    const replica = (index: number) => replicas.replicas[index] as Replica;

    it("cache, and share entries through Redis", async () => {
      expect((await send(replica(first).proxy, "/items/1", { headers: HOST })).cacheStatus).toMatch(
        /fwd=(uri-)?miss/,
      );
      const again = await send(replica(second).proxy, "/items/1", { headers: HOST });
      expect(again.cacheStatus).toMatch(/;\s*hit/);
      expect(await admin.exists(entryKey(A_PREFIX, "x"))).toBe(0);
      const [, keys] = await admin.scan("0", "MATCH", `${A_PREFIX}:k|*/items/1*`, "COUNT", 1_000);
      expect(keys.length).toBeGreaterThan(0);
    });

    it("invalidate on a write, and push it to the other replica's L1", async () => {
      // Replica `second` holds /items/2 in its L1 (a hit from memory after a Redis hit).
      await send(replica(first).proxy, "/items/2", { headers: HOST });
      await waitFor("/items/2 to be a hit on the second replica", async () =>
        /;\s*hit/.test((await send(replica(second).proxy, "/items/2", { headers: HOST })).cacheStatus),
      );
      const pushedBefore = await metric(replica(second), "apicache_l1_pushed_invalidations_total");
      const write = await send(replica(first).proxy, "/items/2", {
        method: "POST",
        headers: HOST,
        body: "{}",
      });
      expect(write.status).toBe(200);
      const after = await send(replica(second).proxy, "/items/2", { headers: HOST });
      expect(after.cacheStatus).not.toMatch(/;\s*hit/);
      expect(JSON.parse(after.body).version).toBeGreaterThan(0);
      expect(await metric(replica(second), "apicache_l1_pushed_invalidations_total")).toBeGreaterThan(
        pushedBefore,
      );
    });

    it("invalidate by key through the admin API, and push the key's mark to the other replica's L1", async () => {
      await send(replica(first).proxy, "/items/5", { headers: HOST });
      await waitFor("/items/5 to be a hit on the second replica", async () =>
        /;\s*hit/.test((await send(replica(second).proxy, "/items/5", { headers: HOST })).cacheStatus),
      );
      const [, found] = await admin.scan("0", "MATCH", `${A_PREFIX}:k|*/items/5|*`, "COUNT", 1_000);
      const keys = found.map((key) => key.slice(entryKey(A_PREFIX, "").length));
      expect(keys.length).toBeGreaterThan(0);
      const answer = await send(replica(first).admin, "/invalidate", {
        method: "POST",
        headers: { authorization: `Bearer ${replicas.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ keys }),
      });
      expect(answer.status).toBe(200);
      const after = await send(replica(second).proxy, "/items/5", { headers: HOST });
      expect(after.cacheStatus).not.toMatch(/;\s*hit/);
    });

    it("coalesce concurrent misses across pods into one upstream request", async () => {
      const path = "/slow/cold";
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => send(replica(i % 2).proxy, path, { headers: HOST })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
      expect(upstream.count(path, "GET")).toBe(1);
      const woken = await Promise.all(
        replicas.replicas.map((r) =>
          metric(r, "apicache_fill_leases_total", { route: "slow", outcome: "woken" }),
        ),
      );
      expect(woken.some((count) => count > 0)).toBe(true);
    });

    it("had no command, key or channel refused, and logged no warning", async () => {
      expect(await aclLog(admin)).toEqual([]);
      expect(warnings(replicas)).toEqual([]);
    });
  });

  describe("with tenant A's user, tenant B's data", () => {
    let a: Redis;
    const bEntry = entryKey(B_PREFIX, "GET|http|api.test|/items/1|public");
    const bTag = tagKey(B_PREFIX, "items");
    const bGeneration = generationKey(B_PREFIX, "items");

    beforeAll(async () => {
      await admin.set(bEntry, "tenant-b-body");
      await admin.zadd(bTag, Date.now() + 60_000, "GET|http|api.test|/items/1|public");
      await admin.set(bGeneration, "b-generation");
      await admin.call("ACL", "LOG", "RESET");
      a = asTenant(users.a);
    });

    afterAll(() => a?.disconnect());

    it("cannot be read", async () => {
      await expect(a.get(bEntry)).rejects.toThrow(/^NOPERM/);
      await expect(a.mget(bGeneration)).rejects.toThrow(/^NOPERM/);
      await expect(a.zrange(bTag, "0", "-1")).rejects.toThrow(/^NOPERM/);
    });

    it("cannot be written", async () => {
      await expect(a.set(bEntry, "poisoned", "PX", 60_000)).rejects.toThrow(/^NOPERM/);
      await expect(a.set(bGeneration, "forged")).rejects.toThrow(/^NOPERM/);
      expect(await admin.get(bEntry)).toBe("tenant-b-body");
    });

    it("cannot be invalidated, directly or through a script that names B's keys only in its arguments", async () => {
      await expect(a.unlink(bGeneration)).rejects.toThrow(/^NOPERM/);
      await expect(
        a.eval(TAG_DRAIN_LUA, 2, bTag, bGeneration, entryKey(B_PREFIX, ""), 500, 1),
      ).rejects.toThrow(/^NOPERM/);
      // A's own tag set naming B's entry, drained with B's prefix: the script's UNLINK is refused.
      const aTag = tagKey(A_PREFIX, "evil");
      await a.zadd(aTag, Date.now() + 60_000, "GET|http|api.test|/items/1|public");
      await expect(
        a.eval(TAG_DRAIN_LUA, 2, aTag, generationKey(A_PREFIX, "evil"), entryKey(B_PREFIX, ""), 500, 1),
      ).rejects.toThrow(/can't access at least one of the keys/);
      expect(await admin.get(bEntry)).toBe("tenant-b-body");
      expect(await admin.get(bGeneration)).toBe("b-generation");
    });

    it("cannot hear or announce B's fills, nor forge pushed invalidations", async () => {
      const subscriber = asTenant(users.a);
      try {
        await expect(subscriber.subscribe(fillChannel(B_PREFIX))).rejects.toThrow(/^NOPERM/);
      } finally {
        subscriber.disconnect();
      }
      await expect(a.publish(fillChannel(B_PREFIX), "GET|http|api.test|/items/1|public")).rejects.toThrow(
        /^NOPERM/,
      );
      await expect(a.publish("__redis__:invalidate", entryKey(B_PREFIX, "x"))).rejects.toThrow(/^NOPERM/);
      // Its own channel: both replicas hear it.
      expect(await a.publish(fillChannel(A_PREFIX), "own")).toBe(replicas.replicas.length);
    });

    it("leaves every refusal in ACL LOG under A's user", async () => {
      const log = await aclLog(admin);
      expect(log.length).toBeGreaterThan(0);
      expect(log.filter((line) => !line.startsWith(`${users.a.name} `))).toEqual([]);
    });

    it("still reaches B's key names through CLIENT TRACKING (Redis does not check tracking prefixes): the documented residual risk", async () => {
      const spy = asTenant(users.a);
      const heard: string[] = [];
      try {
        const id = await spy.client("ID");
        await spy.call(
          "CLIENT",
          "TRACKING",
          "on",
          "REDIRECT",
          String(id),
          "BCAST",
          "PREFIX",
          entryKey(B_PREFIX, ""),
        );
        spy.on("messageBuffer", (_channel: Buffer, message: unknown) => heard.push(String(message)));
        await spy.subscribe("__redis__:invalidate");
        await admin.set(entryKey(B_PREFIX, "GET|http|api.test|/private|public"), "x");
        await waitFor("the push of B's key name", () => heard.length > 0);
        expect(heard.join()).toContain("/private");
      } finally {
        spy.disconnect();
      }
      // Without L1 push the rule leaves CLIENT TRACKING out, and the leak with it.
      const quiet = { name: "apicache-team-c", password: "c-pass-0b7e" };
      await admin.call(
        "ACL",
        ...aclSetUserArguments(
          quiet.name,
          quiet.password,
          redisAclRule({ namespace: "team-c", l1Push: false }),
        ),
      );
      const c = asTenant(quiet);
      try {
        await expect(
          c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", entryKey(B_PREFIX, "")),
        ).rejects.toThrow(/^NOPERM/);
      } finally {
        c.disconnect();
      }
    });
  });

  it("a sidecar given A's user but B's prefix fails open: answered by the upstream, nothing stored for B, the refusals in ACL LOG", async () => {
    const wrong = await startReplicas({
      count: 1,
      upstream: upstream.url,
      redisUrl: tenantUrl(users.a),
      spec: {
        store: {
          redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix: B_PREFIX, commandTimeout: "250ms" },
        },
        routes: [{ name: "items", path: "/items/:id", ttl: "5m" }],
      },
    });
    try {
      const proxy = (wrong.replicas[0] as Replica).proxy;
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await send(proxy, "/items/9", { headers: HOST }));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
      expect(answers[0]?.cacheStatus).toMatch(/fwd=(uri-)?miss/);
      expect(upstream.count("/items/9", "GET")).toBeGreaterThanOrEqual(1);
      // It says why it cannot coalesce across pods: the channel its user lacks.
      const said = (wrong.replicas[0] as Replica).process.logs().filter((line) => line.level === "warn");
      expect(said.map((line) => String(line.msg)).join("\n")).toMatch(/SUBSCRIBE refused.*&<prefix>:fills/);
      const [, keys] = await admin.scan("0", "MATCH", `${B_PREFIX}:k|*/items/9*`, "COUNT", 1_000);
      expect(keys).toEqual([]);
      expect((await aclLog(admin)).some((line) => line.startsWith(`${users.a.name} key ${B_PREFIX}:`))).toBe(
        true,
      );
    } finally {
      await wrong.stop();
    }
  });
});
