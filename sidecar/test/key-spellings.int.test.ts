import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Issue #12: distinct query (and path) spellings an upstream may read differently keep distinct keys,
// and the fill sends the spelling the client sent. Real Redis, L1 off in front of it.
describe("query and path spellings", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let sidecar: Sidecar;

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: req.url }));
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: {
        store: { redis: { urlSecretRef: { name: "r", key: "url" } }, memory: { maxEntryAge: "0s" } },
        routes: [{ name: "search", path: "/search/**", key: { query: ["q"] } }],
      },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
    await redis?.stop();
  });

  const urlSeen = async (path: string) => JSON.parse((await send(sidecar.url, path)).body).url as string;

  it.each([
    ["/search/a?q", "/search/a?q="],
    ["/search/b?q=%zz", "/search/b?q=%25zz"],
    ["/search/c?q=a+b", "/search/c?q=a%20b"],
    ["/search/d%zz", "/search/d%25zz"],
  ])("keeps %s and %s apart, and fills each as spelled", async (first, second) => {
    expect(await urlSeen(first)).toBe(first);
    const other = await send(sidecar.url, second);
    expect(other.cacheStatus).toContain("fwd=uri-miss");
    expect(JSON.parse(other.body).url).toBe(second);
    // The first entry is still there (the second did not replace it): a hit, with the first's answer.
    let again = await send(sidecar.url, first);
    await eventually(async () => {
      again = await send(sidecar.url, first);
      return again.cacheStatus.startsWith("apicache; hit");
    });
    expect(JSON.parse(again.body).url).toBe(first);
  });

  it("still shares an entry between spellings RFC 3986 makes equal", async () => {
    await send(sidecar.url, "/search/e?q=%7e%2f");
    await eventually(async () =>
      (await send(sidecar.url, "/search/e?q=%7e%2f")).cacheStatus.startsWith("apicache; hit"),
    );
    const same = await send(sidecar.url, "/search/e?q=~%2F&utm=1");
    expect(same.cacheStatus).toMatch(/^apicache; hit/);
  });
});
