import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { KubeTestkitError } from "./errors.js";

/**
 * A long-running child (etcd, kube-apiserver) in its own process group, so that stopping it also stops
 * anything it started. Output goes to a log file whose tail is quoted in errors.
 */
export interface ProcessGroup {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when the process has exited; rejects never. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** SIGTERM the group, SIGKILL it after the grace period, resolve once the leader has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logPath: string;
  readonly cwd?: string;
  /**
   * Tie the process to this Node process: it is killed when Node exits or gets SIGINT/SIGTERM (tests).
   * Without it the process outlives us (`make cluster-up`) and is stopped by pid later.
   */
  readonly dieWithParent: boolean;
}

const live = new Set<number>();
let hooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function killAllLive(): void {
  for (const pid of live) killGroup(pid, "SIGKILL");
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllLive();
  process.off(signal, onSignal);
  // Keep the default behaviour (exit) unless someone else (e.g. the test runner) handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAllLive);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/** The last lines of a log file, for error messages. */
export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export function startProcessGroup(options: StartProcessOptions): ProcessGroup {
  const logFd = openSync(options.logPath, "a");
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    detached: true,
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) {
    throw new KubeTestkitError("APICACHE_ERR_PROCESS_EXITED", `could not start ${options.command}`);
  }
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      live.delete(pid);
      resolve({ code, signal });
    });
    child.once("error", () => {
      done = true;
      live.delete(pid);
      resolve({ code: null, signal: null });
    });
  });
  if (options.dieWithParent) {
    installExitHooks();
    live.add(pid);
  } else {
    child.unref();
  }
  return {
    name: options.name,
    pid,
    logPath: options.logPath,
    exited,
    hasExited: () => done,
    stop: async (graceMs = 10_000) => {
      if (done) return;
      killGroup(pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      killGroup(pid, "SIGKILL"); // stragglers in the group
    },
  };
}
