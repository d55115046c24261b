/**
 * Child processes of the sidecar benchmarks (`make bench-sidecar`, `make bench-multi`): each server in
 * its own process, as in a pod, forked through tsx with the workspace `source` condition and reporting
 * over IPC when it is ready; and the tsc build of a checkout's sidecar that the sidecar children run.
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = join(BENCH_DIR, "..", "..");
export const RESULTS = join(REPO, "load-tests", "results.md");

const children: ChildProcess[] = [];

/** How a benchmark child runs beyond its script and argv; every field is optional. */
export interface ChildSetup {
  /** Gets the child's IPC messages after its hello. */
  readonly onMessage?: (message: unknown) => void;
  /** A file descriptor for the child's stdout (default: this process's). */
  readonly stdout?: number;
  /** More node flags for the child (e.g. `--cpu-prof`, bench-hotpath). */
  readonly nodeFlags?: readonly string[];
}

/**
 * Forks a benchmark child (a file of sidecar/bench) and waits for its IPC hello, which it resolves
 * to, with the child's pid. A TypeScript child runs through tsx, a JavaScript one (`.mjs`) on plain
 * node.
 */
export function spawnChild<T>(
  script: string,
  argv: readonly string[],
  setup: ChildSetup = {},
): Promise<T & { readonly pid: number }> {
  const { onMessage, stdout, nodeFlags = [] } = setup;
  const child = fork(resolve(BENCH_DIR, script), argv, {
    cwd: REPO,
    execArgv: [...(script.endsWith(".ts") ? ["--conditions=source", "--import", "tsx"] : []), ...nodeFlags],
    stdio: ["ignore", stdout ?? "inherit", "inherit", "ipc"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 30 s`)), 30_000);
    child.once("message", (message) => {
      clearTimeout(timer);
      if (onMessage) child.on("message", onMessage);
      resolve({ ...(message as T), pid: child.pid as number });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    });
  });
}

/** Stops every child forked so far (disconnect, then SIGKILL after 3 s); resolves when all are gone. */
export async function stopChildren(): Promise<void> {
  await Promise.all(
    children.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          if (child.connected) child.disconnect();
          else child.kill("SIGTERM");
        }),
    ),
  );
}

/**
 * Compiles a checkout's sidecar with tsc, as its image is built, and returns the entry the children
 * import: the benchmark measures the code that ships, not tsx's on-the-fly transform (which wraps every
 * function created per request in a `name` definition and made closures look several times dearer).
 * A baseline checkout gets this repository's root tsconfig if it has none.
 */
export function buildSidecar(checkout: string): string {
  const tsc = join(REPO, "node_modules", ".bin", "tsc");
  if (checkout === REPO) {
    execFileSync(tsc, ["-p", join(REPO, "crds", "tsconfig.json")], { stdio: "inherit" });
  } else if (!existsSync(join(checkout, "tsconfig.json"))) {
    copyFileSync(join(REPO, "tsconfig.json"), join(checkout, "tsconfig.json"));
  }
  console.error(`>> compiling ${relative(REPO, join(checkout, "sidecar")) || "sidecar"} with tsc`);
  execFileSync(tsc, ["-p", join(checkout, "sidecar", "tsconfig.json")], { stdio: "inherit" });
  return join(checkout, "sidecar", "dist", "index.js");
}
