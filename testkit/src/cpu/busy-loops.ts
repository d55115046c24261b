import { type ChildProcess, spawn } from "node:child_process";
import { availableParallelism } from "node:os";

/**
 * Busy-loop child processes that keep every core saturated while tests run: the sidecar, its upstream
 * and its clients then compete for CPU with processes that never yield, as they do on a loaded node.
 * Each child spins at normal priority; all are killed on `stop()` and when this process exits.
 */
export interface BusyLoops {
  readonly count: number;
  /** Whether every child is still spinning (none exited). */
  running(): boolean;
  stop(): Promise<void>;
}

const SPIN = "for (;;) {}";

export function startBusyLoops(count = availableParallelism()): BusyLoops {
  const children: ChildProcess[] = [];
  const kill = () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", kill);
  for (let i = 0; i < count; i++) {
    children.push(spawn(process.execPath, ["-e", SPIN], { stdio: "ignore" }));
  }
  return {
    count,
    running: () => children.every((child) => child.exitCode === null && child.signalCode === null),
    async stop() {
      process.off("exit", kill);
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once("exit", () => resolve());
              child.kill("SIGKILL");
            }),
        ),
      );
    },
  };
}
