import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { logTail, startProcessGroup } from "../kube/process-group.js";
import { waitFor } from "../wait.js";
import { type ComponentSpec, logFile, pidFile } from "./components.js";
import type { ClusterLayout } from "./layout.js";
import { nodeNetnsPath } from "./network.js";

/**
 * The cluster's processes: started detached (they outlive `make cluster-up`), tracked by pid files,
 * found again by pid + command line (a recycled pid is never mistaken for ours), stopped by signal.
 */
function cmdline(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z") return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return undefined;
  }
}

/** Is `pid` alive and running this component (its binary, and for the DNS its script)? */
export function runsComponent(pid: number, spec: ComponentSpec): boolean {
  const argv = cmdline(pid);
  if (argv === undefined || basename(argv[0] ?? "") !== basename(spec.command)) return false;
  return spec.name !== "cluster-dns" || argv.some((arg) => arg.endsWith("cluster-dns-main.ts"));
}

export function readPid(layout: ClusterLayout, spec: ComponentSpec): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile(layout, spec.name), "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function runningPid(layout: ClusterLayout, spec: ComponentSpec): number | undefined {
  const pid = readPid(layout, spec);
  return pid !== undefined && runsComponent(pid, spec) ? pid : undefined;
}

export function startComponent(layout: ClusterLayout, spec: ComponentSpec, cwd: string) {
  const inNode = [`--net=${nodeNetnsPath(layout)}`, `--mount=${layout.paths.mountNs}`, "--"];
  const proc = startProcessGroup({
    name: spec.name,
    command: spec.where === "node" ? "nsenter" : spec.command,
    args: spec.where === "node" ? [...inNode, spec.command, ...spec.args] : spec.args,
    logPath: logFile(layout, spec.name),
    cwd,
    dieWithParent: false,
  });
  writeFileSync(pidFile(layout, spec.name), `${proc.pid}\n`);
  return proc;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopComponent(
  layout: ClusterLayout,
  spec: ComponentSpec,
  graceMs = 10_000,
): Promise<void> {
  const pid = runningPid(layout, spec);
  if (pid !== undefined) {
    signal(pid, "SIGTERM");
    const gone = () => !runsComponent(pid, spec);
    try {
      await waitFor(`${spec.name} (pid ${pid}) to exit`, gone, { timeoutMs: graceMs, intervalMs: 50 });
    } catch {
      signal(pid, "SIGKILL");
      await waitFor(`${spec.name} (pid ${pid}) to die`, gone, { timeoutMs: 10_000, intervalMs: 50 });
    }
  }
  rmSync(pidFile(layout, spec.name), { force: true });
}

/** Every process whose mount namespace is `inode` (the node's daemons, shims and their leftovers). */
export function processesInMountNamespace(inode: number): number[] {
  const wanted = `mnt:[${inode}]`;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/mnt`) === wanted && cmdline(Number(entry)) !== undefined) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone meanwhile, or a kernel thread.
    }
  }
  return pids;
}

/** SIGKILL whatever `find` lists until it lists nothing (containers, shims: nothing left to ask). */
export async function killUntilGone(
  description: string,
  find: () => number[],
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(
    `${description} to be gone`,
    () => {
      const pids = find();
      for (const pid of pids) signal(pid, "SIGKILL");
      return pids.length === 0;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

export function componentLogTail(layout: ClusterLayout, spec: ComponentSpec): string {
  return logTail(logFile(layout, spec.name));
}
