import { existsSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@apicache/testkit/ports";
import { type Spawned, spawnTracked } from "@apicache/testkit/processes";
import { startRedis } from "@apicache/testkit/redis";
import { waitFor } from "@apicache/testkit/wait";

/**
 * The processes of a side-by-side run, each a child process like in production: the demo API, the
 * sidecar (through its CLI), and optionally a real redis-server. All are killed when this process
 * exits or is interrupted (testkit tracks them).
 */
export const REPO_ROOT = new URL("../../../", import.meta.url).pathname;
const DEMO_API_MAIN = join(REPO_ROOT, "load-tests/src/demo-api/main.ts");
const SIDECAR_SOURCE = join(REPO_ROOT, "sidecar/src/main.ts");
const SIDECAR_DIST = join(REPO_ROOT, "sidecar/dist/main.js");

export interface DemoApiProcess {
  readonly url: string;
  /** The process id (e.g. to read its CPU time from /proc). */
  readonly pid: number | undefined;
  readonly source: string;
  readonly loadMillis: number;
  stop(): Promise<void>;
  output(): string;
}

export interface SidecarProcess {
  readonly url: string;
  readonly pid: number | undefined;
  readonly adminUrl: string;
  readonly command: string;
  stop(): Promise<void>;
  output(): string;
}

/** `node --import tsx` for TypeScript sources (with the `source` condition for workspace imports). */
function nodeArgs(entry: string): string[] {
  return entry.endsWith(".ts") ? ["--conditions=source", "--import", "tsx", entry] : [entry];
}

export async function startDemoApiProcess(options: {
  size: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}): Promise<DemoApiProcess> {
  const port = await freePort();
  const child = spawnTracked(
    process.execPath,
    [...nodeArgs(DEMO_API_MAIN), "--listen", `127.0.0.1:${port}`, "--size", options.size],
    {
      cwd: REPO_ROOT,
      env: options.env ?? process.env,
    },
  );
  const line = await waitFor(
    "the demo API to listen",
    () => {
      if (child.child.exitCode !== null)
        throw new Error(`the demo API exited:\n${child.output().slice(-3000)}`);
      return child
        .output()
        .split("\n")
        .find((l) => l.includes('"demo API listening"'));
    },
    { timeoutMs: options.timeoutMs ?? 300_000, intervalMs: 100 },
  ).catch((error: Error) => {
    void child.stop();
    throw error;
  });
  const ready = JSON.parse(line) as { url: string; source: string; loadMillis: number };
  return {
    url: ready.url,
    pid: child.child.pid,
    source: ready.source,
    loadMillis: ready.loadMillis,
    stop: () => child.stop(),
    output: () => child.output(),
  };
}

export interface SidecarOptions {
  readonly policyFile: string;
  readonly upstream: string;
  readonly redisUrl?: string;
  readonly timeoutMs?: number;
  /** The sidecar entry point to run (default: sidecarEntry(), e.g. sidecar/dist/main.js once built). */
  readonly entry?: string;
}

/** Which sidecar entry point runs: APICACHE_SIDECAR_ENTRY, else the TypeScript source, else dist/. */
export function sidecarEntry(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.APICACHE_SIDECAR_ENTRY;
  if (chosen) return chosen;
  if (existsSync(SIDECAR_SOURCE)) return SIDECAR_SOURCE;
  return existsSync(SIDECAR_DIST) ? SIDECAR_DIST : undefined;
}

export async function startSidecarProcess(options: SidecarOptions): Promise<SidecarProcess> {
  const entry = options.entry ?? sidecarEntry();
  if (!entry)
    throw new Error("the sidecar is not there yet: expected sidecar/src/main.ts or sidecar/dist/main.js");
  const [port, adminPort] = [await freePort(), await freePort()];
  const args = [
    "--policy",
    options.policyFile,
    "--upstream",
    options.upstream,
    "--listen",
    `127.0.0.1:${port}`,
    "--admin",
    `127.0.0.1:${adminPort}`,
    "--log-level",
    "warn",
    ...(options.redisUrl ? ["--redis", options.redisUrl] : []),
  ];
  const child: Spawned = spawnTracked(process.execPath, [...nodeArgs(entry), ...args], { cwd: REPO_ROOT });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitFor(
    "the sidecar to be ready",
    async () => {
      if (child.child.exitCode !== null)
        throw new Error(`the sidecar exited:\n${child.output().slice(-3000)}`);
      const response = await fetch(`${adminUrl}/readyz`).catch(() => undefined);
      return response?.ok === true;
    },
    { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 100 },
  ).catch((error: Error) => {
    void child.stop();
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.child.pid,
    adminUrl,
    command: `node ${[...nodeArgs(entry), ...args].join(" ")}`.replaceAll(REPO_ROOT, ""),
    stop: () => child.stop(),
    output: () => child.output(),
  };
}

export { startRedis };
