import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";

/**
 * Child processes started by test helpers. Every one is killed when the test process exits, however
 * it exits (normal end, failure, SIGINT/SIGTERM), so no server outlives its test run.
 */
const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

export interface Spawned {
  readonly child: ChildProcess;
  /** stdout and stderr so far, for error messages. */
  output(): string;
  /** Sends SIGTERM (then SIGKILL after `graceMs`) and resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): Spawned {
  hookExit();
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  live.add(child);
  let output = "";
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      live.delete(child);
      resolve();
    });
    child.once("error", (error) => {
      append(Buffer.from(`spawn error: ${error.message}\n`));
      live.delete(child);
      resolve();
    });
  });
  return {
    child,
    output: () => output,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null || !live.has(child)) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
