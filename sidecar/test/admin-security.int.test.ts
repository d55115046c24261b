import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@apicache/testkit/ports";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { policyText, send } from "./support/harness.js";
import { runSidecar, type SidecarProcess } from "./support/sidecar-process.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// The admin API as an injected sidecar runs it: the real binary, listening on 0.0.0.0 (reachable from
// every pod), with real Redis behind it.
describe("the admin API's credential (the apicache-sidecar binary)", () => {
  let dir: string;
  let upstream: TestUpstream;
  let redis: RedisServer;
  let policy: string;
  let running: SidecarProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "apicache-admin-"));
    [upstream, redis] = await Promise.all([startUpstream(), startRedis()]);
    policy = join(dir, "policy.yaml");
    await writeFile(
      policy,
      policyText({
        routes: [{ name: "items", path: "/api/items/**" }],
        warm: [{ path: "/api/items/1", every: "1h" }],
      }),
    );
  });

  afterEach(async () => {
    await running?.kill();
    running = undefined;
  });

  afterAll(async () => {
    await Promise.all([upstream?.close(), redis?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  async function start(extra: string[], env: Record<string, string> = {}) {
    const [port, adminPort] = [await freePort(), await freePort()];
    const args = ["--policy", policy, "--upstream", upstream.url, "--redis", redis.url];
    running = runSidecar(
      [...args, "--listen", `127.0.0.1:${port}`, "--admin", `0.0.0.0:${adminPort}`, ...extra],
      env,
    );
    return { process: running, proxy: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${adminPort}` };
  }

  const post = (admin: string, path: string, body: unknown, token?: string) =>
    send(admin, path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  it("refuses to start on a non-loopback address without a token", async () => {
    const { process } = await start([]);
    expect(await process.exited).toBe(1);
    const fatal = process.logs().find((line) => line.level === "fatal");
    expect(fatal).toMatchObject({ code: "APICACHE_ERR_ADMIN_INSECURE" });
    expect(String(fatal?.msg)).toContain("--admin-token-file");
    expect(process.output.stdout).not.toContain("apicache sidecar listening");
  });

  it.each([
    ["empty", "  \n"],
    ["missing", undefined],
  ])("refuses to start with a token file that is %s", async (_what, content) => {
    const file = join(dir, `token-${_what}`);
    if (content !== undefined) await writeFile(file, content);
    const { process } = await start(["--admin-token-file", file]);
    expect(await process.exited).toBe(1);
    expect(process.logs().find((line) => line.level === "fatal")).toMatchObject({
      code: "APICACHE_ERR_ADMIN_TOKEN",
    });
  });

  it("answers /invalidate, /warm and /stats only with the bearer token, and keeps probes and metrics open", async () => {
    const file = join(dir, "token");
    await writeFile(file, "first-token\n");
    const { process, proxy, admin } = await start(["--admin-token-file", file]);
    await process.listening();
    expect((await send(proxy, "/api/items/7")).cacheStatus).toContain("stored");

    for (const [path, body] of [
      ["/invalidate", { paths: ["/api/items/7"] }],
      ["/warm", { paths: ["/api/items/8"] }],
    ] as const) {
      const anonymous = await post(admin, path, body);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="apicache-admin"');
      expect(JSON.parse(anonymous.body)).toMatchObject({ error: "APICACHE_ERR_ADMIN_UNAUTHORIZED" });
      const wrong = await post(admin, path, body, "guess");
      expect(wrong.status).toBe(401);
      expect(wrong.headers["www-authenticate"]).toContain('error="invalid_token"');
    }
    expect((await send(admin, "/stats")).status).toBe(401);
    // Nothing was flushed and nothing was fetched by the refused calls.
    expect((await send(proxy, "/api/items/7")).cacheStatus).toMatch(/^apicache; hit/);
    expect(upstream.count("/api/items/8")).toBe(0);

    for (const path of ["/healthz", "/readyz", "/metrics"])
      expect((await send(admin, path)).status).toBe(200);
    const metrics = (await send(admin, "/metrics")).body;
    expect(metrics).toContain(
      'apicache_admin_rejected_requests_total{endpoint="/invalidate",reason="missing"} 1',
    );
    expect(metrics).toContain('apicache_admin_rejected_requests_total{endpoint="/warm",reason="invalid"} 1');

    expect((await post(admin, "/invalidate", { paths: ["/api/items/7"] }, "first-token")).status).toBe(200);
    expect((await send(proxy, "/api/items/7")).cacheStatus).toContain("stored");
    expect((await send(admin, "/stats", { headers: { authorization: "Bearer first-token" } })).status).toBe(
      200,
    );

    // Secret rotation: the file changes, the new token works and the old one no longer does.
    await writeFile(file, "second-token\n");
    await waitFor(
      "the rotated token",
      async () => (await post(admin, "/invalidate", {}, "second-token")).status === 200,
    );
    expect((await post(admin, "/invalidate", {}, "first-token")).status).toBe(401);
  });

  it("with --admin-token-wait, starts before the token file exists and answers 503 until it appears", async () => {
    const file = join(dir, "later", "token");
    const { process, admin } = await start(["--admin-token-file", file, "--admin-token-wait"]);
    await process.listening();
    const pending = await post(admin, "/invalidate", { tags: ["x"] });
    expect(pending.status).toBe(503);
    expect(JSON.parse(pending.body)).toMatchObject({ error: "APICACHE_ERR_ADMIN_TOKEN_PENDING" });
    expect((await send(admin, "/readyz")).status).toBe(200);
    await rm(join(dir, "later"), { recursive: true, force: true });
    await import("node:fs/promises").then((fs) => fs.mkdir(join(dir, "later")));
    await writeFile(file, "late-token");
    await waitFor(
      "the token file to be read",
      async () => (await post(admin, "/invalidate", {}, "late-token")).status === 200,
    );
    expect((await post(admin, "/invalidate", {})).status).toBe(401);
  });

  it("serves an open admin API on a non-loopback address only with --admin-insecure, and warns", async () => {
    const { process, admin } = await start(["--admin-insecure"]);
    await process.listening();
    expect((await post(admin, "/invalidate", { tags: ["x"] })).status).toBe(200);
    expect(process.logs().find((line) => line.code === "APICACHE_ERR_ADMIN_INSECURE")).toMatchObject({
      level: "warn",
    });
  });

  it("keeps an open admin API on loopback (only the pod itself reaches it)", async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    running = runSidecar([
      "--policy",
      policy,
      "--upstream",
      upstream.url,
      "--listen",
      `127.0.0.1:${port}`,
      "--admin",
      `127.0.0.1:${adminPort}`,
    ]);
    await running.listening();
    expect((await post(`http://127.0.0.1:${adminPort}`, "/invalidate", { tags: ["x"] })).status).toBe(200);
  });
});
