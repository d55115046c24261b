import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Found in the cluster tier's rolling restart: the injected (native) sidecar gets SIGTERM only after
// the app container exited, so for a while it runs in front of nothing. Requests on a client's
// kept-alive connection kept landing on it and got 502 APICACHE_ERR_UPSTREAM_REFUSED, one after the
// other. A refused upstream now closes the client's connection (it reconnects through the Service to
// a live pod), and /readyz fails while the upstream refuses, so the pod leaves the endpoints.
describe("when the upstream refuses connections (the app has exited)", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream();
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      admin: { host: "127.0.0.1", port: 0 },
      spec: {
        store: { redis: { urlSecretRef: { name: "r", key: "url" } } },
        routes: [{ name: "things", path: "/things/*", ttl: "60s", staleIfError: "0s" }],
      },
    });
  });

  afterAll(async () => {
    await agent.close();
    await sidecar?.close();
    await upstream?.close();
    await redis?.stop();
  });

  const readyz = async () => {
    const response = await request(`${sidecar.adminUrl}/readyz`);
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  };

  it("is ready while the app listens, and not ready once it refuses, though the store is healthy", async () => {
    expect((await readyz()).status).toBe(200);
    await upstream.close();
    const after = await readyz();
    expect(after.status).toBe(503);
    expect(after.body).toMatchObject({ ready: false, upstream: "refused", store: { ok: true } });
  });

  it.each([
    ["a cache miss", "/things/1", "GET"],
    ["a bypassed read", "/elsewhere", "GET"],
    ["a write", "/things/1", "POST"],
  ])(
    "answers %s with 502 and Connection: close, so the client reconnects elsewhere",
    async (_name, path, method) => {
      const response = await request(`${sidecar.url}${path}`, {
        method: method as "GET",
        dispatcher: agent,
        ...(method === "POST" ? { body: "{}" } : {}),
      });
      const body = (await response.body.json()) as { error: string };
      expect(response.statusCode).toBe(502);
      expect(body.error).toBe("APICACHE_ERR_UPSTREAM_REFUSED");
      expect(response.headers.connection).toBe("close");
    },
  );
});
