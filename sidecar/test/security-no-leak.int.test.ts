import { mkdtemp, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@apicache/testkit/ports";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aclSetUserArguments, redisAclRule } from "../src/store/redis-acl.js";
import { policyText, send } from "./support/harness.js";
import { runSidecar, type SidecarProcess } from "./support/sidecar-process.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * No secret in a log line, a metric label or a Redis key (docs/security.md). A realistic session —
 * a sidecar on Redis with URL credentials and an admin token, requests carrying Authorization, cookies
 * and an identity header, a second sidecar whose Redis password is wrong, a policy reload (valid, then
 * invalid), admin calls with wrong tokens, warming, writes and admin invalidations, all at debug log
 * level — then everything it produced is searched for every test secret, raw and encoded: both
 * processes' stdout and stderr, /metrics, every Redis key and value, every channel with a subscriber,
 * every connection's name.
 */
const SECRETS = {
  redisPassword: "rp-5ecret-redis-pass-91af",
  wrongRedisPassword: "rp-5ecret-wrong-redis-c07d",
  adminToken: "at-5ecret-admin-token-4be2",
  wrongAdminToken: "at-5ecret-wrong-admin-77d1",
  bearer: "bt-5ecret-bearer-alice-0e6a",
  basicPassword: "bp-5ecret-basic-pass-a1c9",
  sessionCookie: "sc-5ecret-session-cookie-5f3b",
  identity: "id-5ecret-user-identity-28cc",
};
const USER = "apicache-shop";
const HOST = { host: "api.shop.svc" };

/** Every spelling of a secret that could end up in output: raw, base64 (both alphabets), URL-encoded. */
function spellings(secret: string): string[] {
  const base64 = Buffer.from(secret).toString("base64");
  return [
    secret,
    secret.slice(0, 16),
    base64.replace(/=+$/, ""),
    Buffer.from(secret).toString("base64url"),
    encodeURIComponent(secret),
    encodeURIComponent(base64),
  ];
}

/** `where: spelling` for every secret spelling found in `text`. */
function leaks(where: string, text: string): string[] {
  return Object.entries(SECRETS).flatMap(([name, secret]) =>
    spellings(secret)
      .filter((spelling) => text.includes(spelling))
      .map((spelling) => `${where}: ${name} as ${JSON.stringify(spelling)}`),
  );
}

const spec = (ttl: string) => ({
  store: { redis: { urlSecretRef: { name: "redis-cache", key: "url" }, keyPrefix: "shop/api" } },
  identity: { headers: ["x-user-token"], cookies: ["session"] },
  routes: [
    { name: "catalog", path: "/catalog/:id", ttl, tags: ["catalog"] },
    { name: "profile", path: "/profile", ttl, key: { scope: "PerUser", headers: ["x-user-token"] } },
    { name: "orders", path: "/orders", ttl, key: { scope: "PerUser" }, tags: ["orders"] },
  ],
  invalidate: [{ name: "order-written", methods: ["POST"], path: "/orders", tags: ["orders", "catalog"] }],
  warm: [{ path: "/catalog/1", every: "1m", host: HOST.host }],
});

describe("no secret leaks from a full session", () => {
  let redis: RedisServer;
  let admin: Redis;
  let upstream: TestUpstream;
  let dir: string;
  let policyFile: string;
  let sidecar: SidecarProcess;
  let refused: SidecarProcess;
  let proxy: string;
  let adminUrl: string;
  let refusedProxy: string;
  let monitor: Redis;
  /** Every command Redis ran during the session, as MONITOR shows it (AUTH and HELLO redacted by Redis). */
  const commands: string[] = [];
  /** Every key and value (strings, tag set members) while the cache was full, before the invalidations. */
  let contents = "";
  let refusedAdmin: string;

  const start = async (password: string, tokenFile: string) => {
    const [listen, adminPort] = [await freePort(), await freePort()];
    const process = runSidecar(
      [
        ...["--policy", policyFile, "--upstream", upstream.url],
        ...["--listen", `127.0.0.1:${listen}`, "--admin", `127.0.0.1:${adminPort}`],
        ...["--admin-token-file", tokenFile, "--log-level", "debug"],
      ],
      { APICACHE_REDIS_URL: `redis://${USER}:${password}@${redis.host}:${redis.port}` },
    );
    await process.listening();
    return { process, proxy: `http://127.0.0.1:${listen}`, admin: `http://127.0.0.1:${adminPort}` };
  };

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.port, redis.host);
    await admin.call(
      "ACL",
      ...aclSetUserArguments(USER, SECRETS.redisPassword, redisAclRule({ namespace: "shop" })),
    );
    // The app answers per user without echoing any credential.
    upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
      const who =
        req.headers.authorization || req.headers["x-user-token"] || req.headers.cookie ? "someone" : "anyone";
      const body = JSON.stringify({ path: req.url, who, at: Date.now() });
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
      res.end(body);
    });
    monitor = await admin.monitor();
    monitor.on("monitor", (_time: string, args: string[]) => commands.push(args.join(" ")));
    dir = await mkdtemp(join(tmpdir(), "apicache-no-leak-"));
    policyFile = join(dir, "policy.json");
    await writeFile(policyFile, policyText(spec("5m"), "api"));
    const tokenFile = join(dir, "token");
    await writeFile(tokenFile, `${SECRETS.adminToken}\n`);
    ({
      process: sidecar,
      proxy,
      admin: adminUrl,
    } = await start(encodeURIComponent(SECRETS.redisPassword), tokenFile));
    ({
      process: refused,
      proxy: refusedProxy,
      admin: refusedAdmin,
    } = await start(SECRETS.wrongRedisPassword, tokenFile));
    await runSession();
  }, 90_000);

  afterAll(async () => {
    await sidecar?.kill();
    await refused?.kill();
    await upstream?.close();
    monitor?.disconnect();
    admin?.disconnect();
    await redis?.stop();
  });

  async function runSession(): Promise<void> {
    const asAlice = {
      authorization: `Bearer ${SECRETS.bearer}`,
      cookie: `session=${SECRETS.sessionCookie}; theme=dark`,
      "x-user-token": SECRETS.identity,
    };
    const basic = `Basic ${Buffer.from(`alice:${SECRETS.basicPassword}`).toString("base64")}`;
    for (let round = 0; round < 2; round++) {
      await send(proxy, "/catalog/1", { headers: HOST });
      await send(proxy, "/catalog/2?utm=1", {
        headers: { ...HOST, cookie: `session=${SECRETS.sessionCookie}` },
      });
      await send(proxy, "/profile", { headers: { ...HOST, ...asAlice } });
      await send(proxy, "/orders", { headers: { ...HOST, authorization: basic } });
      await send(proxy, "/orders", { headers: { ...HOST, "x-user-token": SECRETS.identity } });
      await send(proxy, "/unrouted", { headers: { ...HOST, ...asAlice } });
    }
    await waitFor("a PerUser hit", async () =>
      /;\s*hit/.test((await send(proxy, "/profile", { headers: { ...HOST, ...asAlice } })).cacheStatus),
    );
    contents = await redisContents();
    await send(proxy, "/orders", { method: "POST", headers: { ...HOST, ...asAlice }, body: "{}" });
    // Admin calls: wrong tokens (in the header and where a careless client puts them), then right ones.
    const wrong = [
      { authorization: `Bearer ${SECRETS.wrongAdminToken}` },
      { authorization: SECRETS.wrongAdminToken },
      { authorization: `Basic ${Buffer.from(`admin:${SECRETS.wrongAdminToken}`).toString("base64")}` },
    ];
    for (const headers of wrong) {
      expect(
        (await send(adminUrl, "/invalidate", { method: "POST", headers, body: '{"tags":["catalog"]}' }))
          .status,
      ).toBe(401);
      expect((await send(adminUrl, "/stats", { headers })).status).toBe(401);
    }
    expect((await send(adminUrl, `/stats?token=${SECRETS.wrongAdminToken}`)).status).toBe(401);
    const authorized = { authorization: `Bearer ${SECRETS.adminToken}`, "content-type": "application/json" };
    expect((await send(adminUrl, "/warm", { method: "POST", headers: authorized })).status).toBe(200);
    const invalidate = JSON.stringify({ tags: ["catalog"], paths: ["/profile"], keys: [] });
    expect(
      (await send(adminUrl, "/invalidate", { method: "POST", headers: authorized, body: invalidate })).status,
    ).toBe(200);
    expect((await send(adminUrl, "/stats", { headers: authorized })).status).toBe(200);
    // Reloads: a valid change, then an invalid file (rejected, the last good policy stays).
    await writeFile(policyFile, policyText(spec("4m"), "api"));
    await waitFor("the reload", () => logged(sidecar, "policy reloaded"));
    // A realistic mistake: the Redis URL, password and all, pasted into the policy (rejected).
    const mistake = spec("4m");
    const url = `redis://${USER}:${SECRETS.redisPassword}@redis.shop.svc:6379`;
    const pasted = { ...mistake, store: { redis: { ...mistake.store.redis, url } } };
    await writeFile(policyFile, policyText(pasted, "api"));
    await waitFor("the rejected reload", () => logged(sidecar, "rejected the policy"));
    await writeFile(policyFile, "{ not json");
    await waitFor("the second rejected reload", () => logged(sidecar, "rejected the policy", 2));
    // The sidecar whose Redis refuses its password, with the same requests.
    await send(refusedProxy, "/profile", { headers: { ...HOST, ...asAlice } });
    await waitFor("the refused sidecar to log its Redis failure", () =>
      refused.logs().some((line) => line.code === "APICACHE_ERR_STORE_UNAVAILABLE"),
    );
  }

  function logged(process: SidecarProcess, message: string, times = 1): boolean {
    return process.logs().filter((line) => String(line.msg).startsWith(message)).length >= times;
  }

  it("ran the session it claims: hits, a refused Redis, refused admin calls, reloads", async () => {
    const metrics = (await send(adminUrl, "/metrics")).body;
    expect(metrics).toMatch(/apicache_admin_rejected_requests_total\{[^}]*reason="invalid"[^}]*\} [1-9]/);
    const messages = sidecar.logs().map((line) => String(line.msg));
    expect(messages.filter((message) => message.startsWith("rejected the policy")).length).toBe(2);
    expect(messages).toContain("policy reloaded");
    expect(messages).toContain("admin invalidation");
    expect(refused.logs().some((line) => /WRONGPASS/.test(String(line.err)))).toBe(true);
  });

  it("leaves no secret in either sidecar's stdout or stderr", () => {
    expect([
      ...leaks("sidecar stdout", sidecar.output.stdout),
      ...leaks("sidecar stderr", sidecar.output.stderr),
      ...leaks("refused sidecar stdout", refused.output.stdout),
      ...leaks("refused sidecar stderr", refused.output.stderr),
    ]).toEqual([]);
  });

  it("leaves no secret in /metrics", async () => {
    const [one, two] = await Promise.all([send(adminUrl, "/metrics"), send(refusedAdmin, "/metrics")]);
    expect([...leaks("/metrics", one.body), ...leaks("refused /metrics", two.body)]).toEqual([]);
  });

  async function redisContents(): Promise<string> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, page] = await admin.scan(cursor, "COUNT", 1_000);
      keys.push(...page);
      cursor = next;
    } while (cursor !== "0");
    const values = await Promise.all(
      keys.map(async (key) => {
        const type = await admin.type(key);
        if (type === "string") return (await admin.getBuffer(key))?.toString("latin1") ?? "";
        if (type === "zset") return (await admin.zrange(key, "0", "-1")).join("\n");
        return "";
      }),
    );
    return [...keys, ...values].join("\n");
  }

  it("leaves no secret in any Redis key name or value, nor in any command the sidecars sent", async () => {
    // PerUser entries (the identity's hash), public ones, tag sets and generations were there.
    expect(contents).toMatch(/shop\/api:k\|[^\n]*\|user:/);
    expect(contents).toMatch(/shop\/api:k\|[^\n]*\|public/);
    expect(contents).toMatch(/shop\/api:g\|/);
    expect(commands.length).toBeGreaterThan(50);
    expect([
      ...leaks("Redis keys and values (full cache)", contents),
      ...leaks("Redis keys and values (end)", await redisContents()),
      ...leaks("commands (MONITOR)", commands.join("\n")),
    ]).toEqual([]);
  });

  it("leaves no secret in any channel or connection name", async () => {
    const channels = (await admin.call("PUBSUB", "CHANNELS", "*")) as string[];
    expect(channels).toContain("shop/api:fills");
    const clients = String(await admin.call("CLIENT", "LIST"));
    expect([...leaks("channels", channels.join("\n")), ...leaks("CLIENT LIST", clients)]).toEqual([]);
  });
});
