import { type RedisSentinel, startRedisSentinel } from "@apicache/testkit/redis-sentinel";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "./support/harness.js";
import { type Replicas, startReplicas } from "./support/replicas.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * `rediss+sentinel://`: TLS to the sentinels and to the data nodes (which serve nothing in the
 * clear), with passwords on the data nodes. The sidecar verifies the servers' certificate against the
 * system's CAs plus NODE_EXTRA_CA_CERTS: trusting the test CA it caches; without it, it never reaches
 * Redis and still answers every request from the upstream.
 */
const PREFIX = "sentinel-tls";
const HOST = { host: "api.test.svc" };

describe("a sidecar on rediss+sentinel://", () => {
  let sentinel: RedisSentinel;
  let upstream: TestUpstream;
  const started: Replicas[] = [];

  beforeAll(async () => {
    sentinel = await startRedisSentinel({ tls: true, password: "data-p@ss" });
    upstream = await startUpstream();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(started.map((replicas) => replicas.stop()));
    await upstream?.close();
    await sentinel?.stop();
  });

  const sidecar = async (env: Record<string, string>): Promise<string> => {
    const replicas = await startReplicas({
      count: 1,
      upstream: upstream.url,
      redisUrl: sentinel.url,
      env,
      spec: {
        store: {
          redis: { urlSecretRef: { name: "r", key: "url" }, keyPrefix: PREFIX },
          memory: { maxEntryAge: "0s" },
        },
        routes: [{ name: "items", path: "/items/:id", ttl: "5m" }],
      },
    });
    started.push(replicas);
    return replicas.replicas[0]?.proxy ?? "";
  };

  it("caches on the primary when it trusts the servers' CA", async () => {
    expect(sentinel.url).toMatch(/^rediss\+sentinel:\/\//);
    const proxy = await sidecar({ NODE_EXTRA_CA_CERTS: sentinel.caFile ?? "" });
    const primary = sentinel.client(await sentinel.primary());
    try {
      await waitFor("/items/1 to be a hit, stored on the primary", async () => {
        await send(proxy, "/items/1", { headers: HOST });
        const again = await send(proxy, "/items/1", { headers: HOST });
        const [, keys] = await primary.scan("0", "MATCH", `${PREFIX}:k|*/items/1|*`, "COUNT", 1_000);
        return /;\s*hit/.test(again.cacheStatus) && keys.length > 0;
      });
    } finally {
      primary.disconnect();
    }
  });

  it("answers every request from the upstream, never from Redis, when it does not trust them", async () => {
    const proxy = await sidecar({});
    for (let i = 0; i < 5; i++) {
      const answer = await send(proxy, "/items/2", { headers: HOST });
      expect(answer.status).toBe(200);
      // A request may join the previous one's flight while its store write is pending (coalesced).
      if (!answer.cacheStatus.includes("coalesced")) expect(answer.cacheStatus).not.toMatch(/;\s*hit/);
    }
    const primary = sentinel.client(await sentinel.primary());
    try {
      const [, keys] = await primary.scan("0", "MATCH", `${PREFIX}:k|*/items/2|*`, "COUNT", 1_000);
      expect(keys).toEqual([]);
    } finally {
      primary.disconnect();
    }
  });
});
