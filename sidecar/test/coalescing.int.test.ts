import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { eventually, metricValue, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Acceptance item 5: one upstream request per key at a time; waiters woken by the leader's promise.
describe("request coalescing", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  let release: () => void = () => undefined;
  let hold = true;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const held = hold
        ? new Promise<void>((resolve) => {
            release = resolve;
          })
        : Promise.resolve();
      void held.then(() => {
        const cookie = req.url?.includes("cookie") ? { "set-cookie": "sid=1" } : {};
        res.writeHead(200, { "content-type": "text/plain", ...cookie });
        res.end(`body for ${req.url}`);
      });
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      spec: { routes: [{ name: "all", path: "/**" }] },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it("sends exactly one upstream request for 200 concurrent requests on a cold key", async () => {
    const answers = Promise.all(Array.from({ length: 200 }, () => send(sidecar.url, "/cold")));
    // Every request but the leader is parked on the leader's flight before the upstream answers.
    await eventually(
      async () => (await metricValue(sidecar, "apicache_coalesced_requests_total")) === 199,
      10_000,
      "199 waiters",
    );
    expect(upstream.count("/cold")).toBe(1);
    const woke = performance.now();
    release();
    const all = await answers;
    const wakeMs = performance.now() - woke;
    expect(upstream.count("/cold")).toBe(1);
    expect(new Set(all.map((a) => a.body))).toEqual(new Set(["body for /cold"]));
    expect(
      all.filter((a) => a.cacheStatus === "apicache; fwd=uri-miss; fwd-status=200; stored"),
    ).toHaveLength(1);
    expect(
      all.filter(
        (a) => a.cacheStatus.startsWith("apicache; hit;") && a.cacheStatus.endsWith("detail=coalesced"),
      ),
    ).toHaveLength(199);
    // Woken by an event: all 199 answers arrive promptly, not on a polling tick.
    expect(wakeMs).toBeLessThan(2_000);
  });

  it("lets each waiter fetch for itself when the leader's response cannot be shared", async () => {
    const answers = Promise.all(Array.from({ length: 3 }, () => send(sidecar.url, "/with-cookie")));
    await eventually(
      async () => (await metricValue(sidecar, "apicache_coalesced_requests_total")) === 201,
      5_000,
      "2 more waiters",
    );
    hold = false;
    release();
    const all = await answers;
    expect(upstream.count("/with-cookie")).toBe(3);
    for (const answer of all) expect(answer.cacheStatus).toContain("detail=set-cookie");
  });
});
