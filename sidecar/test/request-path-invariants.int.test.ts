import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { MemoryStore } from "../src/store/memory-store.js";
import type { CacheStore, Fence, GetOptions, SetOptions } from "../src/store/types.js";
import {
  captureLogs,
  eventually,
  histogramCount,
  manualClock,
  metricValue,
  policyText,
  send,
  startTestSidecar,
} from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

/**
 * Review of the #17 refactor (fill split by concern, one Exchange per request, telemetry as a leaf):
 * behaviour the refactor had to keep and that no other test pins. Each test also passes on b529f31,
 * the tree before the refactor, except the last one, which shows the one intended change (ADR 0031).
 */

/** A memory store whose fence (and reads) a test can hold; `set` may ignore the fence. */
class HeldStore implements CacheStore {
  readonly name = "memory";
  readonly inner: MemoryStore;
  fenceHold: Promise<void> | undefined;
  fencesWaiting = 0;
  getHold: Promise<void> | undefined;
  getsWaiting = 0;
  /** Hands `set` no fence: only the data path's own invalidation log can keep a fill out. */
  ignoreFence = false;

  constructor(now: () => number) {
    this.inner = new MemoryStore({ maxBytes: 1 << 24, now });
  }

  async get(key: string, _options?: GetOptions): Promise<Buffer | undefined> {
    if (this.getHold) {
      this.getsWaiting++;
      await this.getHold;
      this.getsWaiting--;
    }
    return this.inner.get(key);
  }
  async fence(tags: readonly string[]): Promise<Fence> {
    if (this.fenceHold) {
      this.fencesWaiting++;
      await this.fenceHold;
      this.fencesWaiting--;
    }
    return this.inner.fence(tags);
  }
  set(key: string, value: Buffer, options: SetOptions): Promise<boolean> {
    if (!this.ignoreFence) return this.inner.set(key, value, options);
    const { fence: _dropped, ...unfenced } = options;
    return this.inner.set(key, value, unfenced);
  }
  delete(keys: readonly string[]): Promise<number> {
    return this.inner.delete(keys);
  }
  deleteTags(tags: readonly string[]): Promise<number> {
    return this.inner.deleteTags(tags);
  }
  health() {
    return this.inner.health();
  }
  stats() {
    return this.inner.stats();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function hold(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

type Answering = (req: IncomingMessage, res: ServerResponse) => void;

describe("the refactored fill and request path (review of #17)", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  let store: HeldStore;
  const clock = manualClock();
  const logs = captureLogs("debug");
  const answers = new Map<string, Answering>();
  let version = 0;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const path = (req.url ?? "").split("?")[0] as string;
      const answer = answers.get(path);
      if (answer) return answer(req, res);
      if (req.method !== "GET") {
        version++;
        res.writeHead(204);
        res.end();
        return;
      }
      const body = JSON.stringify({ path, version });
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=60" });
      res.end(body);
    });
    store = new HeldStore(clock.now);
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      clock: clock.now,
      logger: logs.logger,
      store,
      spec: {
        defaults: { ttl: "60s", staleWhileRevalidate: "0s", staleIfError: "10m" },
        routes: [{ name: "items", path: "/**" }],
      },
    });
  });

  afterEach(() => {
    store.fenceHold = undefined;
    store.getHold = undefined;
    store.ignoreFence = false;
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  const upstreamGets = (path: string) =>
    upstream.received.filter((r) => r.url === path && r.method === "GET");

  // ADR 0004/0005, ADR 0031 §4: the invalidator's sequence is read before the fence is awaited. A write
  // that lands while the fence is being taken must keep the fill out of the store even when the store's
  // own fence cannot see it (here: `set` is handed no fence).
  it("does not store a fill when a write lands while its fence is still being taken", async () => {
    store.ignoreFence = true;
    const fence = hold();
    store.fenceHold = fence.promise;
    const read = send(sidecar.url, "/fenced/1");
    await eventually(() => store.fencesWaiting === 1, 5_000, "the fill to wait for its fence");
    expect(upstreamGets("/fenced/1")).toHaveLength(0);
    const write = await send(sidecar.url, "/fenced/1", { method: "POST" });
    expect(write.status).toBe(204);
    fence.release();
    const first = await read;
    expect(first.status).toBe(200);
    expect(first.cacheStatus).toBe("apicache; fwd=uri-miss; fwd-status=200; detail=invalidated-during-fetch");
    const second = await send(sidecar.url, "/fenced/1");
    expect(second.cacheStatus).toBe("apicache; fwd=uri-miss; fwd-status=200; stored");
    expect(upstreamGets("/fenced/1")).toHaveLength(2);
  });

  // RFC 9111 §4.3.4 through fill-revalidate.ts: a 304 that selects the stored response freshens its
  // header fields (new ones added, Cache-Control replaced), is stored again with the freshness those
  // give it, and counts one upstream request in the upstream histogram.
  it("merges a selecting 304's fields into the entry and stores it again with the new freshness", async () => {
    const path = "/reval/merge";
    let round = 0;
    answers.set(path, (req, res) => {
      round++;
      if (req.headers["if-none-match"] === '"m1"') {
        res.writeHead(304, { etag: '"m1"', "cache-control": "max-age=300", "x-round": String(round) });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"m1"', "cache-control": "max-age=60", "x-round": String(round) });
      res.end("merge body");
    });
    const before = await upstreamDurationCount(sidecar);
    await send(sidecar.url, path);
    clock.advance(61_000);
    const revalidated = await send(sidecar.url, path);
    expect(revalidated.status).toBe(200);
    expect(revalidated.body).toBe("merge body");
    expect(revalidated.headers["x-round"]).toBe("2");
    expect(revalidated.cacheStatus).toBe("apicache; fwd=stale; fwd-status=304; stored");
    expect(upstream.received.filter((r) => r.url === path)[1]?.headers["if-none-match"]).toBe('"m1"');
    // Stored again when the 304 arrived (the route's 60 s TTL from then): a hit 30 s later, 91 s after
    // the first answer was stored, with the merged fields.
    clock.advance(30_000);
    const hit = await send(sidecar.url, path);
    expect(hit.cacheStatus).toMatch(/^apicache; hit; ttl=\d+$/);
    expect(hit.headers["x-round"]).toBe("2");
    expect(hit.headers["cache-control"]).toBe("max-age=300");
    expect(upstream.count(path)).toBe(2);
    expect(await upstreamDurationCount(sidecar)).toBe(before + 2);
  });

  // fill-revalidate.ts: a 304 that names another representation is not used; the fill asks once more,
  // without validators, and goes on with that answer whatever it is — here a 503, for which the stale
  // entry is served (stale-if-error), and nothing is stored. One upstream observation for two requests.
  it("asks again unconditionally after a non-selecting 304 and goes on with a 5xx answer", async () => {
    const path = "/reval/other";
    let round = 0;
    answers.set(path, (req, res) => {
      round++;
      if (round === 1) {
        res.writeHead(200, { etag: '"o1"', "cache-control": "max-age=60" });
        res.end("first body");
      } else if (req.headers["if-none-match"] !== undefined) {
        res.writeHead(304, { etag: '"o2"' });
        res.end();
      } else {
        res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" });
        res.end("down");
      }
    });
    await send(sidecar.url, path);
    clock.advance(61_000);
    const durationsBefore = await upstreamDurationCount(sidecar);
    const errorsBefore = await metricValue(sidecar, "apicache_upstream_errors_total", {
      reason: "status_5xx",
    });
    const answer = await send(sidecar.url, path);
    const asked = upstream.received.filter((r) => r.url === path);
    expect(asked).toHaveLength(3);
    expect(asked[1]?.headers["if-none-match"]).toBe('"o1"');
    expect(asked[2]?.headers["if-none-match"]).toBeUndefined();
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("first body");
    expect(answer.cacheStatus).toMatch(
      /^apicache; fwd=stale; fwd-status=503; ttl=-?\d+; detail=stale-if-error$/,
    );
    expect(await upstreamDurationCount(sidecar)).toBe(durationsBefore + 1);
    expect(await metricValue(sidecar, "apicache_upstream_errors_total", { reason: "status_5xx" })).toBe(
      errorsBefore + 1,
    );
  });

  // fill-store.ts: NOT_STORED vs NOT_FORWARDED. A stored response loses the upstream's Age (recomputed
  // from the entry) and its Content-Length (recomputed); one shared but not stored (a 500 here) keeps
  // the upstream's Age as it was sent.
  it("recomputes Age for a stored answer and forwards the upstream's Age for an unstored shared one", async () => {
    answers.set("/age/stored", (_req, res) => {
      res.writeHead(200, { "cache-control": "max-age=600", age: "100", "content-length": "6" });
      res.end("stored");
    });
    answers.set("/age/unstored", (_req, res) => {
      res.writeHead(500, { "cache-control": "no-cache", age: "7", "content-length": "8" });
      res.end("unstored");
    });
    const stored = await send(sidecar.url, "/age/stored");
    expect(stored.cacheStatus).toContain("stored");
    expect(stored.headers.age).toBe("100");
    clock.advance(5_000);
    const hit = await send(sidecar.url, "/age/stored");
    expect(hit.headers.age).toBe("105");
    expect(hit.headers["content-length"]).toBe("6");
    const unstored = await send(sidecar.url, "/age/unstored");
    expect(unstored.status).toBe(500);
    expect(unstored.cacheStatus).not.toContain("stored");
    expect(unstored.headers.age).toBe("7");
    expect(unstored.headers["content-length"]).toBe("8");
  });

  // telemetry/request-observer.ts via the Exchange: every request reported once — metrics, /stats and
  // one debug log line — whatever path answered it; upstream requests observed once each.
  it("reports every request exactly once, on every path", async () => {
    answers.set("/once/cookie", (_req, res) => {
      res.writeHead(200, { "set-cookie": "a=b", "cache-control": "max-age=60" });
      res.end("cookie");
    });
    const slow = hold();
    answers.set("/once/slow", (_req, res) => {
      void slow.promise.then(() => {
        res.writeHead(200, { "cache-control": "max-age=60" });
        res.end("slow");
      });
    });
    const requestsBefore = await metricValue(sidecar, "apicache_requests_total");
    const durationsBefore = await histogramCount(sidecar, "apicache_request_duration_seconds");
    const logLinesBefore = requestLines().length;
    const upstreamBefore = upstream.received.length;
    const upstreamObservedBefore = await upstreamDurationCount(sidecar);
    const sent = [
      await send(sidecar.url, "/once/a"),
      await send(sidecar.url, "/once/a"),
      await send(sidecar.url, "/once/cookie"),
      await send(sidecar.url, "/once/a", { method: "POST" }),
      await send(sidecar.url, "/once/a", { method: "OPTIONS" }),
      await send(sidecar.url, "/once/a", { headers: { "cache-control": "no-cache" } }),
    ];
    const joinedBefore = await metricValue(sidecar, "apicache_coalesced_requests_total");
    const coalesced = Array.from({ length: 5 }, () => send(sidecar.url, "/once/slow"));
    await eventually(() => upstream.count("/once/slow") === 1, 5_000, "the slow fill to start");
    await eventually(
      async () => (await metricValue(sidecar, "apicache_coalesced_requests_total")) === joinedBefore + 4,
      5_000,
      "four waiters to join the fill",
    );
    slow.release();
    sent.push(...(await Promise.all(coalesced)));
    const outcomes = sent.map((a) => a.cacheStatus);
    expect(outcomes.filter((s) => s.includes("detail=coalesced"))).toHaveLength(4);
    expect(await metricValue(sidecar, "apicache_requests_total")).toBe(requestsBefore + sent.length);
    expect(await histogramCount(sidecar, "apicache_request_duration_seconds")).toBe(
      durationsBefore + sent.length,
    );
    expect(requestLines().length - logLinesBefore).toBe(sent.length);
    expect(await upstreamDurationCount(sidecar)).toBe(
      upstreamObservedBefore + (upstream.received.length - upstreamBefore),
    );
    expect(
      requestLines()
        .slice(logLinesBefore)
        .map((line) => line.cacheStatus),
    ).toEqual(expect.arrayContaining(outcomes));
  });

  const requestLines = () => logs.lines.filter((line) => line.msg === "request");
});

async function upstreamDurationCount(sidecar: Sidecar, labels: Record<string, string> = {}): Promise<number> {
  return histogramCount(sidecar, "apicache_upstream_request_duration_seconds", labels);
}

// ADR 0031, Consequences: a pass-through reads the policy the handler read. In mode Shadow the old path
// read it again after the store lookup, so a reload during that lookup mixed two policies in one request
// (the new one's label and upstream timeout, the old one's routes, key and storability). This test
// pins the new behaviour: one policy per request. It FAILS ON PURPOSE on b529f31 (the old tree reports
// the request under the reloaded policy's label).
describe("mode Shadow across a reload during the store lookup", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  let store: HeldStore;

  beforeAll(async () => {
    upstream = await startUpstream();
    store = new HeldStore(Date.now);
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      store,
      spec: { mode: "Shadow", routes: [{ name: "all", path: "/**" }] },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it("answers and reports the request under the policy read when it arrived", async () => {
    const lookup = hold();
    store.getHold = lookup.promise;
    const answer = send(sidecar.url, "/shadowed");
    await eventually(() => store.getsWaiting >= 1, 5_000, "the shadow lookup to wait");
    const applied = sidecar.reload(
      policyText({ mode: "Shadow", routes: [{ name: "all", path: "/**" }] }, "renamed-api"),
    );
    expect(applied).toMatchObject({ ok: true });
    expect(sidecar.policy().label).toBe("test/renamed-api");
    store.getHold = undefined;
    lookup.release();
    expect((await answer).cacheStatus).toBe("apicache; fwd=bypass; fwd-status=200; detail=shadow-miss");
    expect(await metricValue(sidecar, "apicache_requests_total", { policy: "test/test-api" })).toBe(1);
    expect(await metricValue(sidecar, "apicache_requests_total", { policy: "test/renamed-api" })).toBe(0);
    expect(await upstreamDurationCount(sidecar, { policy: "test/test-api" })).toBe(1);
  });
});
