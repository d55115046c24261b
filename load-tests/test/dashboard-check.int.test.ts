// The dashboard check's query path end to end: a real sidecar process (in-memory store) in front of a
// small upstream, a real Prometheus scraping it with the shipped rules, the shipped dashboard's headline
// queries evaluated for a window. Traffic before the window (all misses) must not count in it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyCacheStatus } from "../src/harness/cache-status.js";
import { type DashboardWatch, watchDashboard } from "../src/harness/dashboard-check.js";
import { policyRoutes } from "../src/harness/sidecar-route.js";
import { REPO_ROOT, type SidecarProcess, startSidecarProcess } from "../src/harness/stack.js";
import { compareScenario, type Sample } from "../src/harness/stats.js";

const POLICY = `
apiVersion: apicache.io/v1alpha1
kind: CachePolicy
metadata: { name: items, namespace: bench }
spec:
  selector: { matchLabels: { app: items } }
  upstream: { port: http }
  defaults: { ttl: 5m }
  routes:
    - name: items
      path: /items/:id
`;

/** Answers every request after 100 ms. */
function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: req.url }));
    }, 100);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** The sidecar's route labels under POLICY. */
const routeOf = policyRoutes(POLICY);

async function read(baseUrl: string, path: string, method = "GET"): Promise<Sample> {
  const started = performance.now();
  const write = method !== "GET";
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    ...(write ? { body: "{}", headers: { "content-type": "application/json" } } : {}),
  });
  await response.arrayBuffer();
  return {
    name: write ? "write" : "read",
    endpoint: write ? "write" : "catalog",
    method,
    path,
    status: response.status,
    latencyMs: performance.now() - started,
    cache: classifyCacheStatus(response.headers.get("cache-status") ?? undefined),
    failed: response.status >= 400,
  };
}

async function readAll(baseUrl: string, paths: readonly string[]): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const path of paths) samples.push(await read(baseUrl, path));
  return samples;
}

describe("the dashboard's headline panels through a real Prometheus", () => {
  let dir: string;
  let upstream: Server;
  let upstreamUrl: string;
  let sidecar: SidecarProcess;
  let watch: DashboardWatch;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "apicache-dashboard-check-"));
    writeFileSync(join(dir, "policy.yaml"), POLICY);
    upstream = await startUpstream();
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    sidecar = await startSidecarProcess({ policyFile: join(dir, "policy.yaml"), upstream: upstreamUrl });
    watch = await watchDashboard({ repoRoot: REPO_ROOT, adminUrl: sidecar.adminUrl });
  }, 90_000);

  afterAll(async () => {
    await watch?.stop();
    await sidecar?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("agrees with the client's own counts for the window, and leaves out what came before it", async () => {
    // A miss and a hit, scraped: Prometheus counts a series' increase from its first sample on, and
    // the traffic below must count (for a panel that does not keep to the window).
    await readAll(sidecar.url, ["/items/seed", "/items/seed"]);
    await watch.startWindow();
    // Before the window: 12 keys read once (12 misses) and 2 of them again (hits).
    const before = Array.from({ length: 12 }, (_, i) => `/items/before-${i}`);
    await readAll(sidecar.url, [...before, "/items/before-0", "/items/before-1"]);

    const startMs = await watch.startWindow();
    // The window: 4 new keys read 5 times each (4 misses, 16 hits) and the 12 earlier keys once (hits).
    const paths = [...Array.from({ length: 20 }, (_, i) => `/items/in-${i % 4}`), ...before];
    const through = await readAll(sidecar.url, paths);
    const endMs = Date.now();
    const direct = await readAll(upstreamUrl, paths);

    const check = await watch.check(
      { startMs, endMs },
      {
        comparison: compareScenario("check", direct, through),
        checkReads: [],
        samples: through,
        earlierSamples: [],
        routeOf,
      },
    );
    const byTitle = Object.fromEntries(check.verdicts.map((v) => [v.title, v]));
    expect(through.filter((s) => s.cache === "miss")).toHaveLength(4);
    // 28 of 32 requests in the window were hits; with the 14 requests before it, 30 of 46 would be.
    // (Prometheus extrapolates each counter's increase to the range's ends: about a second of ~10.)
    const near = (value: number | undefined, wanted: number) => Math.abs((value ?? 0) - wanted) < 0.02;
    expect(byTitle["Hit ratio"]?.dashboard, "hit ratio").toSatisfy((v: number) => near(v, 28 / 32));
    expect(byTitle["Upstream requests saved"]?.dashboard, "saved").toSatisfy((v: number) => near(v, 28 / 32));
    expect(byTitle["Hit ratio"]?.harness).toBeCloseTo(28 / 32, 5);
    // Hits answer in about a millisecond, misses take the upstream's 100 ms: most of the time is saved.
    // The client times each hit with its own round trip on top (a few ms on a busy machine), so the
    // harness's figure sits a little below the panel's: 2.2 pp on an idle one; 10 pp leaves room.
    expect(byTitle.Improvement?.dashboard).toBeGreaterThan(0.5);
    expect(byTitle.Improvement?.dashboard).toBeLessThan(1);
    expect(Math.abs(byTitle.Improvement?.differencePp ?? Number.NaN)).toBeLessThan(10);
    expect(check.verdicts.filter((v) => v.title !== "Improvement").every((v) => v.ok)).toBe(true);
  }, 90_000);

  it("still shows the improvement for a window in which every request was a hit", async () => {
    const paths = Array.from({ length: 12 }, (_, i) => `/items/before-${i}`);
    const startMs = await watch.startWindow();
    const through = await readAll(sidecar.url, paths);
    const endMs = Date.now();
    const direct = await readAll(upstreamUrl, paths);
    expect(through.every((s) => s.cache === "hit")).toBe(true);

    const check = await watch.check(
      { startMs, endMs },
      {
        comparison: compareScenario("hits", direct, through),
        checkReads: [],
        samples: through,
        earlierSamples: [],
        routeOf,
      },
    );
    const byTitle = Object.fromEntries(check.verdicts.map((v) => [v.title, v]));
    // No upstream request in the window: each request is priced at its route's upstream mean over the
    // last day (100 ms) instead of showing "No data".
    expect(byTitle.Improvement?.dashboard).toBeGreaterThan(0.9);
    expect(byTitle["Hit ratio"]?.dashboard).toBe(1);
    expect(byTitle["Upstream requests saved"]?.dashboard).toBe(1);
  }, 90_000);

  it("prices only what the panel prices: writes the sidecar labels route none are left out", async () => {
    const hits = Array.from({ length: 12 }, (_, i) => `/items/before-${i}`);
    // A write of each kind first, scraped before the window: increase() counts a series from its first
    // sample on, so the window's writes must not be the first of their series.
    await read(sidecar.url, "/items/seed", "PUT");
    await read(sidecar.url, "/orders/seed", "POST");
    const startMs = await watch.startWindow();
    // 12 hits; 2 PUTs to the items route's path (labelled items: they price the route at ~100 ms) and
    // 4 POSTs to a path no route declares (labelled none: outside the panel's route!="none").
    const through = [
      ...(await readAll(sidecar.url, hits)),
      ...[await read(sidecar.url, "/items/w-1", "PUT"), await read(sidecar.url, "/items/w-2", "PUT")],
      ...(await Promise.all(Array.from({ length: 4 }, (_, i) => read(sidecar.url, `/orders/${i}`, "POST")))),
    ];
    const endMs = Date.now();
    expect(through.map((s) => routeOf(s.method, s.path))).toEqual([
      ...hits.map(() => "items"),
      "items",
      "items",
      "none",
      "none",
      "none",
      "none",
    ]);
    expect(through.slice(0, 12).every((s) => s.cache === "hit")).toBe(true);
    const direct = through.map((s) => ({ ...s, cache: "none" as const }));

    const check = await watch.check(
      { startMs, endMs },
      {
        comparison: compareScenario("writes", direct, through),
        checkReads: [],
        samples: through,
        earlierSamples: [],
        routeOf,
      },
    );
    const improvement = check.verdicts.find((v) => v.title === "Improvement");
    // The panel: 1 − (12 hits of ~1 ms + 2 PUTs of ~100 ms) / (14 × ~100 ms) ≈ 0.85. Counting the POSTs
    // under one "write" group, as the harness did, priced the items reads not at all (never forwarded
    // in the window) and gave 1 − 600 / 600 = 0.
    expect(improvement?.dashboard).toBeGreaterThan(0.7);
    expect(improvement?.harness).toBeGreaterThan(0.7);
    expect(Math.abs(improvement?.differencePp ?? Number.NaN)).toBeLessThan(10);
  }, 90_000);
});
