import { type SecureRedis, startSecureRedis } from "@apicache/testkit/redis-secure";
import { waitFor } from "@apicache/testkit/wait";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aclSetUserArguments, redisAclRule } from "../src/store/redis-acl.js";
import { send } from "./support/harness.js";
import { type Replica, type Replicas, startReplicas } from "./support/replicas.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * `rediss://user:password@…` against a real redis-server that serves only TLS and authenticates every
 * client (requirepass on the default user, an ACL user for the sidecar). The sidecar verifies the
 * server's certificate against the system's CAs plus NODE_EXTRA_CA_CERTS (docs/security.md): trusting
 * the CA with the right password it caches; not trusting it, or with a wrong password, it answers every
 * request from the upstream and logs the failure with its stable code, never the password.
 */
const HOST = { host: "api.test" };
const PREFIX = "shop/api";
const USER = "apicache-shop";
const PASSWORD = "tls-user-secret-5b0d9e";
const DEFAULT_PASSWORD = "tls-default-secret-8c41aa";

describe("a sidecar on rediss:// with a password", () => {
  let redis: SecureRedis;
  let admin: Redis;
  let upstream: TestUpstream;
  const started: Replicas[] = [];

  beforeAll(async () => {
    redis = await startSecureRedis({ tls: true, requirepass: DEFAULT_PASSWORD });
    admin = redis.admin();
    await admin.call("ACL", ...aclSetUserArguments(USER, PASSWORD, redisAclRule({ namespace: "shop" })));
    upstream = await startUpstream();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(started.map((replicas) => replicas.stop()));
    await upstream?.close();
    await redis?.stop();
  });

  const sidecar = async (password: string, env: Record<string, string>): Promise<Replica> => {
    const replicas = await startReplicas({
      count: 1,
      upstream: upstream.url,
      redisUrl: `${redis.scheme}://${USER}:${encodeURIComponent(password)}@${redis.host}:${redis.port}`,
      env,
      spec: {
        store: { redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix: PREFIX } },
        routes: [{ name: "items", path: "/items/:id", ttl: "5m" }],
      },
    });
    started.push(replicas);
    return replicas.replicas[0] as Replica;
  };

  /** Every request answered (200), none from the cache; nothing stored in Redis for the path. */
  const failsOpen = async (replica: Replica, path: string) => {
    for (let i = 0; i < 4; i++) {
      const answer = await send(replica.proxy, path, { headers: HOST });
      expect(answer.status).toBe(200);
      if (!answer.cacheStatus.includes("coalesced")) expect(answer.cacheStatus).not.toMatch(/;\s*hit/);
    }
    expect(upstream.count(path, "GET")).toBeGreaterThanOrEqual(1);
    const [, keys] = await admin.scan("0", "MATCH", `${PREFIX}:k|*${path}|*`, "COUNT", 1_000);
    expect(keys).toEqual([]);
  };

  /** The log line that says why, with its code; the password in none of the output. */
  const saysWhy = async (replica: Replica, reason: RegExp, hint: RegExp) => {
    await waitFor("the sidecar to log the Redis failure", () =>
      replica.process.logs().some((line) => line.code === "APICACHE_ERR_STORE_UNAVAILABLE"),
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${replica.process.output.stdout}${replica.process.output.stderr}`);
    });
    const line = replica.process.logs().find((entry) => entry.code === "APICACHE_ERR_STORE_UNAVAILABLE");
    expect(line?.level).toBe("warn");
    expect(String(line?.err)).toMatch(reason);
    expect(String(line?.hint)).toMatch(hint);
    const output = replica.process.output.stdout + replica.process.output.stderr;
    expect(output).not.toContain(PASSWORD.slice(0, 12));
    expect(output).not.toContain(DEFAULT_PASSWORD.slice(0, 12));
  };

  it("caches, with the CA trusted and the right password", async () => {
    const replica = await sidecar(PASSWORD, { NODE_EXTRA_CA_CERTS: redis.caFile ?? "" });
    await waitFor("/items/1 to be a hit, stored in Redis", async () => {
      await send(replica.proxy, "/items/1", { headers: HOST });
      const again = await send(replica.proxy, "/items/1", { headers: HOST });
      const [, keys] = await admin.scan("0", "MATCH", `${PREFIX}:k|*/items/1|*`, "COUNT", 1_000);
      return /;\s*hit/.test(again.cacheStatus) && keys.length > 0;
    });
    const warnings = replica.process.logs().filter((line) => /^(warn|error|fatal)$/.test(String(line.level)));
    expect(warnings).toEqual([]);
  });

  it("fails open and says so when it does not trust the server's CA", async () => {
    const replica = await sidecar(PASSWORD, {});
    await failsOpen(replica, "/items/2");
    await saysWhy(replica, /certificate/i, /NODE_EXTRA_CA_CERTS/);
  });

  it("fails open and says so with a wrong password", async () => {
    const wrong = "wrong-secret-e3a7719c";
    const replica = await sidecar(wrong, { NODE_EXTRA_CA_CERTS: redis.caFile ?? "" });
    await failsOpen(replica, "/items/3");
    await saysWhy(replica, /WRONGPASS/, /user and password/);
    const output = replica.process.output.stdout + replica.process.output.stderr;
    expect(output).not.toContain(wrong);
  });
});
