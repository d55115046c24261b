import { Agent, request } from "undici";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, startTestSidecar } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// Graceful shutdown: first a delay in which the sidecar still answers but reports not ready (so a
// Service takes the pod out before its port closes), then in-flight requests finish, and a client that
// keeps its connection alive (every load balancer does) does not hold the drain open until its deadline.
describe("graceful shutdown", () => {
  let upstream: TestUpstream | undefined;
  const agent = new Agent({ keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000 });

  afterAll(async () => {
    await agent.close();
    await upstream?.close();
  });

  it("finishes the request in flight, then closes its keep-alive connection without waiting for the deadline", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    upstream = await startUpstream((_req, res) => {
      void gate.then(() => {
        res.writeHead(200, { "content-length": "4" });
        res.end("done");
      });
    });
    const sidecar = await startTestSidecar({ upstream: upstream.url, spec: { routes: [] } });
    const inFlight = request(`${sidecar.url}/slow`, { dispatcher: agent }).then(async (response) => ({
      status: response.statusCode,
      body: await response.body.text(),
    }));
    await eventually(() => upstream?.count("/slow") === 1, 10_000, "the request to reach the upstream");
    const drainMs = 60_000;
    const started = Date.now();
    const closing = sidecar.close({ drainMs });
    release();
    expect(await inFlight).toEqual({ status: 200, body: "done" });
    await closing;
    // Generous bound for a loaded CI machine, far below the drain deadline.
    expect(Date.now() - started).toBeLessThan(drainMs / 3);
  });

  it("keeps answering during the shutdown delay, not ready and with Connection: close, then stops accepting", async () => {
    const app = await startUpstream((_req, res) => {
      res.writeHead(200, { "content-length": "2" });
      res.end("ok");
    });
    try {
      const sidecar = await startTestSidecar({
        upstream: app.url,
        spec: { routes: [] },
        admin: { host: "127.0.0.1", port: 0 },
      });
      const readyz = async () => (await fetch(`${sidecar.adminUrl}/readyz`)).status;
      expect(await readyz()).toBe(200);
      const delayMs = 1_500;
      const started = Date.now();
      const closing = sidecar.close({ delayMs, drainMs: 5_000 });
      expect(await readyz()).toBe(503);
      const during = await request(`${sidecar.url}/during`);
      expect(during.statusCode).toBe(200);
      expect(during.headers.connection).toBe("close");
      expect(await during.body.text()).toBe("ok");
      expect(Date.now() - started).toBeLessThan(delayMs);
      await closing;
      expect(Date.now() - started).toBeGreaterThanOrEqual(delayMs);
      await expect(request(`${sidecar.url}/after`)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      await app.close();
    }
  });
});
