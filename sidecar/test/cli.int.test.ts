import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@apicache/testkit/ports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, policyText, send } from "./support/harness.js";
import { startUpstream, type TestUpstream } from "./support/upstream-app.js";

// The apicache-sidecar binary, once, as a child process (dev entry: tsx on src/main.ts).
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MAIN = join(ROOT, "sidecar", "src", "main.ts");

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk) => {
    output.stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output.stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output, exited };
}

describe("the apicache-sidecar binary", () => {
  let dir: string;
  let upstream: TestUpstream;
  let running: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "apicache-cli-"));
    upstream = await startUpstream();
  });

  afterAll(async () => {
    running?.kill("SIGKILL");
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("exits 2 listing every bad flag, with usage", async () => {
    const { output, exited } = run(["--listen", "nope", "--bogus"]);
    expect(await exited).toBe(2);
    expect(output.stderr).toContain("APICACHE_ERR_CONFIG");
    expect(output.stderr).toContain("Usage: apicache-sidecar");
  });

  it("keeps waiting for the policy ConfigMap while the API server is unreachable", async () => {
    const kubeconfig = join(dir, "kubeconfig.yaml");
    const closedPort = await freePort();
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${closedPort}", insecure-skip-tls-verify: true}}]`,
        "users: [{name: u, user: {token: t}}]",
        "contexts: [{name: c, context: {cluster: c, user: u}}]",
        "current-context: c",
      ].join("\n"),
    );
    const { child, output, exited } = run(
      ["--policy-configmap", "ns/cm", "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0"],
      { APICACHE_UPSTREAM: upstream.url, APICACHE_ADMIN: "127.0.0.1:0" },
    );
    running = child;
    let exitCode: number | null | undefined;
    void exited.then((code) => {
      exitCode = code;
    });
    const retries = () => output.stdout.split("\n").filter((l) => l.includes("watch failed")).length;
    // Each retry is logged; a process that gave up would exit after the first one.
    await eventually(() => retries() >= 3 || exitCode !== undefined, 30_000, "three watch retries");
    expect(exitCode).toBeUndefined();
    child.kill("SIGKILL");
    await exited;
    running = undefined;
  });

  it("serves from a policy file, logs JSON on stdout, exposes process metrics, and drains on SIGTERM", async () => {
    const policy = join(dir, "policy.yaml");
    await writeFile(policy, policyText({ routes: [{ name: "all", path: "/**" }] }));
    const [port, adminPort] = [await freePort(), await freePort()];
    const { child, output, exited } = run(
      ["--policy", policy, "--listen", `127.0.0.1:${port}`, "--admin", `127.0.0.1:${adminPort}`],
      { APICACHE_UPSTREAM: upstream.url, APICACHE_LOG_LEVEL: "info" },
    );
    running = child;
    // Generous: the full integration tier runs many sidecar processes (tsx, from source) at once.
    await eventually(
      () => output.stdout.includes("apicache sidecar listening"),
      60_000,
      "the listening log line",
    );
    const line = JSON.parse(output.stdout.split("\n").find((l) => l.includes("listening")) as string);
    expect(line).toMatchObject({ level: "info", policy: "test/test-api", store: "memory" });
    const base = `http://127.0.0.1:${port}`;
    expect((await send(base, "/x")).cacheStatus).toContain("stored");
    expect((await send(base, "/x")).cacheStatus).toMatch(/^apicache; hit/);
    expect((await send(`http://127.0.0.1:${adminPort}`, "/healthz")).status).toBe(200);
    // The process's own health on /metrics (heap, event-loop delay, descriptors): the CLI turns them on.
    const metrics = (await send(`http://127.0.0.1:${adminPort}`, "/metrics")).body;
    for (const name of [
      "nodejs_heap_size_used_bytes",
      "nodejs_eventloop_lag_p99_seconds",
      "process_open_fds",
    ])
      expect(metrics).toMatch(new RegExp(`^${name} `, "m"));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    running = undefined;
    expect(output.stdout).toContain("shutting down");
  }, 120_000);
});
