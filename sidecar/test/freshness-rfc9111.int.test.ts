import type { IncomingMessage, ServerResponse } from "node:http";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * RFC 9111/9110 freshness under ttlFrom: Upstream (issue 12, finding 10), through the sidecar on a real
 * redis-server with the real clock: HTTP-date formats, invalid freshness information, must-revalidate,
 * entries kept past freshness for conditional revalidation, Age on responses not stored, explicit
 * freshness on any status, and the targeted fields of RFC 9213.
 */
type Reply = (req: IncomingMessage, res: ServerResponse) => void;

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number, width = 2) => String(n).padStart(width, "0");
const clock = (d: Date) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

/** Sunday, 06-Nov-94 08:49:37 GMT */
function rfc850(ms: number): string {
  const d = new Date(ms);
  const year = pad(d.getUTCFullYear() % 100);
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${year} ${clock(d)} GMT`;
}

/** Sun Nov  6 08:49:37 1994 */
function asctime(ms: number): string {
  const d = new Date(ms);
  const day = String(d.getUTCDate()).padStart(2, " ");
  const weekday = DAYS[d.getUTCDay()]?.slice(0, 3);
  return `${weekday} ${MONTHS[d.getUTCMonth()]} ${day} ${clock(d)} ${d.getUTCFullYear()}`;
}

describe("RFC 9111 freshness under ttlFrom: Upstream", () => {
  let redis: RedisServer;
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  const replies = new Map<string, Reply>();

  const reply =
    (headers: Record<string, string | string[]>, status = 200): Reply =>
    (_req, res) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify({ at: Date.now() }));
    };

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startUpstream((req, res) => {
      const path = (req.url ?? "").split("?")[0] as string;
      (replies.get(path) ?? reply({}))(req, res);
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      redisUrl: redis.url,
      spec: {
        store: { redis: { urlSecretRef: { name: "r", key: "url" } } },
        // The policy's ttl (1h) must never stand in for invalid freshness information.
        defaults: { ttl: "1h", ttlFrom: "Upstream", negativeTtl: "1h" },
        routes: [
          // No stale window at all: what survives freshness does so for revalidation only.
          { name: "strict", path: "/strict/*", staleWhileRevalidate: "0s", staleIfError: "0s" },
          { name: "everything", path: "/**", staleWhileRevalidate: "0s" },
        ],
      },
    });
  });

  beforeEach(() => replies.clear());

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
    await redis?.stop();
  });

  /** Sends the path twice: whether the second answer came from the cache. */
  /** The Redis entries whose key names the path, with their remaining time to live (ms). */
  async function storedTtls(path: string): Promise<number[]> {
    const client = new Redis(redis.url);
    try {
      const keys = (await client.keys("*:k|*")).filter((key) => key.includes(path));
      return await Promise.all(keys.map((key) => client.pttl(key)));
    } finally {
      client.disconnect();
    }
  }

  /** A fill's write to Redis (then to the in-process tier) finishes after its response: waits for it. */
  async function untilStored(path: string): Promise<number[]> {
    let ttls: number[] = [];
    await eventually(
      async () => {
        ttls = await storedTtls(path);
        return ttls.length > 0;
      },
      5_000,
      `${path} in Redis`,
    );
    return ttls;
  }

  /** Whether the fill was stored, and a repeat (once the store has it) is answered as a hit. */
  async function cachedTwice(path: string): Promise<boolean> {
    const first = await send(sidecar.url, path);
    if (first.cacheStatus.includes("stored")) await untilStored(path);
    const second = await send(sidecar.url, path);
    return second.cacheStatus.startsWith("apicache; hit");
  }

  describe("Expires", () => {
    it.each([
      ["RFC 850", rfc850],
      ["asctime", asctime],
    ])("is read in the obsolete %s format", async (name, format) => {
      const path = `/expires/${name.replace(" ", "")}`;
      replies.set(path, reply({ expires: format(Date.now() + 600_000), date: new Date().toUTCString() }));
      expect(await cachedTwice(path)).toBe(true);
      expect(upstream.count(path)).toBe(1);
    });

    it.each([
      ["another zone", "Thu, 18 Aug 2050 02:01:18 UTC"],
      ["a two-digit year in IMF form", "Thu, 18 Aug 50 02:01:18 GMT"],
      ["a number", "0"],
    ])(
      "with %s means already expired, not fresh until then nor for the policy's ttl",
      async (name, expires) => {
        const path = `/expires-invalid/${name.replaceAll(" ", "-")}`;
        replies.set(path, reply({ expires }));
        expect(await cachedTwice(path)).toBe(false);
        expect(upstream.count(path)).toBe(2);
      },
    );
  });

  describe("an invalid max-age or s-maxage", () => {
    it.each([
      ["negative", "max-age=-1"],
      ["single-quoted", "max-age='3600'"],
      ["non-numeric", "max-age=3600a"],
      ["decimal s-maxage", "s-maxage=1.5, max-age=3600"],
    ])("(%s) makes the response stale, never the policy's ttl", async (name, cc) => {
      const path = `/max-age-invalid/${name.replaceAll(" ", "-")}`;
      replies.set(path, reply({ "cache-control": cc }));
      expect(await cachedTwice(path)).toBe(false);
    });
  });

  describe("a stored response with a validator", () => {
    /** Requests until the entry's one second of freshness has passed; returns that answer. */
    async function firstAnswerAfterFreshness(path: string) {
      let answer = await send(sidecar.url, path);
      await eventually(
        async () => {
          answer = await send(sidecar.url, path);
          return !answer.cacheStatus.startsWith("apicache; hit");
        },
        5_000,
        "the entry to go stale",
      );
      return answer;
    }

    const validating =
      (cc: string, stale?: () => number): Reply =>
      (req, res) => {
        if (stale && stale() >= 500) {
          res.writeHead(stale(), { "content-type": "text/plain" });
          res.end("down");
          return;
        }
        if (req.headers["if-none-match"] === '"v1"') {
          res.writeHead(304, { etag: '"v1"', "cache-control": cc });
          res.end();
          return;
        }
        res.writeHead(200, { "content-type": "text/plain", etag: '"v1"', "cache-control": cc });
        res.end("version 1");
      };

    it("is stored in Redis well past its freshness, even with staleIfError 0s", async () => {
      replies.set("/strict/kept", validating("max-age=1"));
      await send(sidecar.url, "/strict/kept");
      const ttls = await untilStored("/strict/kept");
      expect(ttls).toHaveLength(1);
      expect(ttls[0]).toBeGreaterThan(30_000);
    });

    it("is revalidated with a conditional request once stale, even with staleIfError 0s", async () => {
      replies.set("/strict/etag", validating("max-age=1"));
      const answer = await firstAnswerAfterFreshness("/strict/etag");
      const last = upstream.received.filter((r) => r.url === "/strict/etag").at(-1);
      expect(last?.headers["if-none-match"]).toBe('"v1"');
      expect(answer.status).toBe(200);
      expect(answer.body).toBe("version 1");
      expect(answer.cacheStatus).toContain("fwd=stale; fwd-status=304");
    });

    it("with must-revalidate is revalidated once stale, not dropped", async () => {
      replies.set("/must/etag", validating("max-age=1, must-revalidate"));
      const answer = await firstAnswerAfterFreshness("/must/etag");
      const last = upstream.received.filter((r) => r.url === "/must/etag").at(-1);
      expect(last?.headers["if-none-match"]).toBe('"v1"');
      expect(answer.cacheStatus).toContain("fwd=stale; fwd-status=304");
    });

    it("with must-revalidate is never served stale when the upstream fails, whatever staleIfError says", async () => {
      let failing = 0;
      replies.set(
        "/must/down",
        validating("max-age=1, must-revalidate", () => failing),
      );
      await send(sidecar.url, "/must/down");
      failing = 503;
      const answer = await firstAnswerAfterFreshness("/must/down");
      expect(answer.status).toBe(503);
      expect(answer.body).toBe("down");
    });
  });

  describe("Age", () => {
    it.each([
      ["a status the policy does not store", "/age/created", 201, {}],
      ["a response already stale on arrival", "/age/stale", 200, { "cache-control": "max-age=10" }],
    ])("is forwarded unchanged on %s", async (_name, path, status, headers) => {
      replies.set(path, reply({ ...headers, age: "42" }, status));
      const answer = await send(sidecar.url, path);
      expect(answer.cacheStatus).toContain("detail=");
      expect(answer.headers.age).toBe("42");
    });
  });

  it("takes the first of a list of Age values", async () => {
    replies.set("/age/list-old", reply({ "cache-control": "max-age=3600", age: "7200, 0" }));
    expect(await cachedTwice("/age/list-old")).toBe(false);
    replies.set("/age/list-new", reply({ "cache-control": "max-age=3600", age: "0, 7200" }));
    expect(await cachedTwice("/age/list-new")).toBe(true);
  });

  describe("explicit freshness on a status outside cacheableStatuses", () => {
    it.each([302, 307])("makes a %i storable", async (status) => {
      const path = `/redirect/${status}`;
      replies.set(path, reply({ location: "/elsewhere", "cache-control": "max-age=60" }, status));
      expect(await cachedTwice(path)).toBe(true);
      expect(upstream.count(path)).toBe(1);
    });

    it("does not make one without explicit freshness storable", async () => {
      replies.set("/redirect/plain", reply({ location: "/elsewhere" }, 302));
      expect(await cachedTwice("/redirect/plain")).toBe(false);
    });
  });

  describe("targeted fields (RFC 9213)", () => {
    it("CDN-Cache-Control takes precedence over Cache-Control", async () => {
      replies.set("/targeted/cdn", reply({ "cdn-cache-control": "max-age=60", "cache-control": "no-store" }));
      expect(await cachedTwice("/targeted/cdn")).toBe(true);
      replies.set(
        "/targeted/cdn-off",
        reply({ "cdn-cache-control": "no-store", "cache-control": "max-age=60" }),
      );
      expect(await cachedTwice("/targeted/cdn-off")).toBe(false);
    });

    it("Apicache-Cache-Control takes precedence over CDN-Cache-Control", async () => {
      replies.set(
        "/targeted/own",
        reply({ "apicache-cache-control": "no-store", "cdn-cache-control": "max-age=60" }),
      );
      expect(await cachedTwice("/targeted/own")).toBe(false);
      replies.set(
        "/targeted/own-on",
        reply({ "apicache-cache-control": "max-age=60", "cache-control": "private" }),
      );
      expect(await cachedTwice("/targeted/own-on")).toBe(true);
    });

    it("an invalid targeted field is ignored as a whole", async () => {
      replies.set(
        "/targeted/bad",
        reply({ "cdn-cache-control": 'max-age="60"', "cache-control": "no-store" }),
      );
      expect(await cachedTwice("/targeted/bad")).toBe(false);
    });
  });
});
