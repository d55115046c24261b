import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.js";
import { SIDECAR_METRICS } from "../src/telemetry/metric-names.js";
import { captureLogs, metricValue, send, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Acceptance items 11 (mode Shadow) and 12 (metric names, one JSON logger).
describe("mode Shadow", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const cookie = req.url === "/private" ? { "cache-control": "private" } : {};
      res.writeHead(200, { "content-type": "text/plain", ...cookie });
      res.end(`fresh from upstream ${upstream.received.length}`);
    });
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      spec: { mode: "Shadow", routes: [{ name: "all", path: "/**" }] },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it("always answers from the upstream while recording the would-be outcome", async () => {
    const first = await send(sidecar.url, "/s");
    const second = await send(sidecar.url, "/s");
    expect(first.cacheStatus).toBe("apicache; fwd=bypass; fwd-status=200; detail=shadow-miss");
    expect(second.cacheStatus).toBe("apicache; fwd=bypass; fwd-status=200; detail=shadow-hit");
    expect(second.body).not.toBe(first.body);
    expect(upstream.count("/s")).toBe(2);
    expect(await metricValue(sidecar, "apicache_requests_total", { outcome: "shadow-hit" })).toBe(1);
    expect(await metricValue(sidecar, "apicache_requests_total", { outcome: "shadow-miss" })).toBe(1);
  });

  it("records would-be uncacheable responses with their reason", async () => {
    const answer = await send(sidecar.url, "/private");
    expect(answer.cacheStatus).toBe("apicache; fwd=bypass; fwd-status=200; detail=shadow-uncacheable");
    expect(await metricValue(sidecar, "apicache_requests_total", { outcome: "shadow-uncacheable" })).toBe(1);
  });
});

describe("telemetry", () => {
  let upstream: TestUpstream;
  let sidecar: Sidecar;
  const logs = captureLogs("debug");

  beforeAll(async () => {
    upstream = await startUpstream();
    sidecar = await startTestSidecar({
      upstream: upstream.url,
      logger: logs.logger,
      spec: { routes: [{ name: "all", path: "/**" }] },
    });
  });

  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it("exports every metric of the team brief on /metrics", async () => {
    await send(sidecar.url, "/m");
    await send(sidecar.url, "/m");
    const text = (await send(sidecar.adminUrl as string, "/metrics")).body;
    for (const metric of Object.values(SIDECAR_METRICS))
      expect(text).toContain(`# TYPE ${metric.name} ${metric.type}`);
    expect(text).toMatch(
      /apicache_requests_total\{policy="test\/test-api",route="all",method="GET",outcome="hit"\} 1/,
    );
    expect(text).toMatch(
      /apicache_store_operation_duration_seconds_count\{store="memory",operation="get"\} \d+/,
    );
    expect(text).toMatch(/apicache_l1_entries\{policy="test\/test-api"\} 1/);
  });

  it("logs JSON lines whose outcome matches the Cache-Status the client saw", async () => {
    const answer = await send(sidecar.url, "/logged");
    const line = logs.lines.find((l) => l.msg === "request" && l.path === "/logged");
    expect(line).toMatchObject({
      level: "debug",
      route: "all",
      outcome: "miss",
      cacheStatus: answer.cacheStatus,
    });
  });

  it("serves health, readiness and a stats report", async () => {
    expect((await send(sidecar.adminUrl as string, "/healthz")).status).toBe(200);
    const ready = await send(sidecar.adminUrl as string, "/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, upstream: "reachable", store: { ok: true } });
    const stats = JSON.parse((await send(sidecar.adminUrl as string, "/stats")).body);
    expect(stats.routes[0]).toMatchObject({ route: "all", hitRatio: expect.any(Number) });
  });
});

describe("the admin token", () => {
  it("guards everything but health, readiness and metrics, comparing in constant time", async () => {
    const upstream = await startUpstream();
    const sidecar = await startTestSidecar({
      upstream: upstream.url,
      adminToken: "s3cret",
      spec: { routes: [] },
    });
    try {
      const admin = sidecar.adminUrl as string;
      expect((await send(admin, "/healthz")).status).toBe(200);
      expect((await send(admin, "/metrics")).status).toBe(200);
      const denied = await send(admin, "/stats");
      expect(denied.status).toBe(401);
      expect(JSON.parse(denied.body).error).toBe("APICACHE_ERR_ADMIN_UNAUTHORIZED");
      expect((await send(admin, "/stats", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect((await send(admin, "/stats", { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
    } finally {
      await sidecar.close();
      await upstream.close();
    }
  });
});
