import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@apicache/testkit/wait";

// The apicache-sidecar binary as a child process (dev entry: tsx on src/main.ts).
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const MAIN = join(ROOT, "sidecar", "src", "main.ts");

export interface SidecarProcess {
  /** The child's process id (it names the sidecar's Redis invalidation connections). */
  readonly pid: number | undefined;
  readonly output: { stdout: string; stderr: string };
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Resolves once the "listening" log line is out; rejects if the process exits first. */
  listening(): Promise<void>;
  /** JSON log lines (stdout) so far. */
  logs(): Record<string, unknown>[];
  kill(): Promise<void>;
}

export function runSidecar(args: readonly string[], env: Record<string, string> = {}): SidecarProcess {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, APICACHE_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk) => {
    output.stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output.stderr += chunk;
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const logs = () =>
    output.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    pid: child.pid,
    output,
    exited,
    logs,
    listening: async () => {
      const up = waitFor(
        "the sidecar's listening log line",
        () => exitCode !== undefined || output.stdout.includes("apicache sidecar listening"),
        { timeoutMs: 30_000 },
      );
      await up.catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${output.stdout}${output.stderr}`);
      });
      if (exitCode !== undefined) throw new Error(`exited ${exitCode}:\n${output.stdout}${output.stderr}`);
    },
    kill: async () => {
      if (exitCode === undefined) child.kill("SIGKILL");
      await exited;
    },
  };
}
