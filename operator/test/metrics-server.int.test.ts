// The operator's metrics server (on express, docs/adr/0030) over real HTTP on loopback: its three
// paths answer whatever the method, everything else is a plain-text 404, nothing express adds.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetricsServer } from "../src/server/metrics-server.js";
import { createMetrics } from "../src/telemetry/metrics.js";
import { appPrototypesDuring } from "./app-prototypes.js";

describe("the operator's metrics server", () => {
  let server: Awaited<ReturnType<typeof startMetricsServer>>;
  let base: string;
  let notReady: string | undefined = "the informers have not synced";

  beforeAll(async () => {
    const checks = { live: () => undefined, ready: () => notReady };
    server = await startMetricsServer({ host: "127.0.0.1", port: 0 }, createMetrics(), checks);
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close();
  });

  async function get(path: string, method = "GET") {
    const response = await fetch(`${base}${path}`, { method });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  it("serves the registry on /metrics in Prometheus' text format, without X-Powered-By or ETag", async () => {
    const answer = await get("/metrics?x=1");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(answer.headers.get("x-powered-by")).toBeNull();
    expect(answer.headers.get("etag")).toBeNull();
    expect(answer.text).toContain("# TYPE ");
    expect((await get("/metrics", "POST")).status).toBe(200);
  });

  it("builds each request and response with its express app's prototypes, so express swaps none (ADR 0036)", async () => {
    const seen = await appPrototypesDuring(server.server, async () => {
      expect((await get("/healthz")).status).toBe(200);
    });
    expect(seen).toEqual([true]);
  });

  it("answers the probes in plain text: ok, or 503 with what is wrong", async () => {
    expect(await get("/healthz")).toMatchObject({ status: 200, text: "ok\n" });
    const answer = await get("/readyz");
    expect(answer).toMatchObject({ status: 503, text: "the informers have not synced\n" });
    expect(answer.headers.get("content-type")).toBe("text/plain");
    notReady = undefined;
    expect(await get("/readyz")).toMatchObject({ status: 200, text: "ok\n" });
  });

  it.each(["/", "/metrics/", "/Metrics", "/healthz/x"])("answers %s with a plain-text 404", async (path) => {
    const answer = await get(path);
    expect(answer).toMatchObject({ status: 404, text: "try /metrics, /healthz or /readyz\n" });
    expect(answer.headers.get("content-type")).toBe("text/plain");
  });
});
