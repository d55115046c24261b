import { execFileSync } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../testkit/src/ports.js";
import { type Spawned, spawnTracked } from "../../testkit/src/processes.js";
import { waitFor } from "../../testkit/src/wait.js";
import { parseSamples, type Sample } from "./prom-text.js";

/**
 * The operator as its own process, as it runs in its Pod: the bundle of its tsc build
 * (`operator/dist/bundle/apicache-operator.mjs`, compiled and bundled first, as the image is built),
 * NODE_ENV=production, the flags `make run-operator` passes
 * (leader election on), its log in a file. Memory is read from /proc/<pid>/status: VmHWM is the
 * kernel's own peak of the resident set, so it does not depend on how often we look.
 */
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export function compileOperator(): string {
  const tsc = join(REPO, "node_modules", ".bin", "tsc");
  for (const workspace of ["crds", "operator"]) {
    execFileSync(tsc, ["-p", join(REPO, workspace, "tsconfig.json")], { stdio: "inherit" });
  }
  execFileSync(process.execPath, [join(REPO, "operator", "bundle.mjs")], { stdio: "inherit" });
  return join(REPO, "operator", "dist", "bundle", "apicache-operator.mjs");
}

export interface Memory {
  /** Resident set now. */
  readonly rssBytes: number;
  /** Peak resident set since the process started. */
  readonly hwmBytes: number;
}

/** process.memoryUsage() inside the operator (memory-probe.mjs), now and its peaks. */
export interface HeapFigures {
  readonly now: NodeJS.MemoryUsage;
  readonly peak: Pick<NodeJS.MemoryUsage, "heapUsed" | "heapTotal" | "external" | "arrayBuffers">;
  /** After the last full GC the benchmark asked for (SIGUSR2): what is really held. */
  readonly live?: NodeJS.MemoryUsage & { readonly at: number };
}

export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rssBytes: kib("VmRSS") * 1024, hwmBytes: kib("VmHWM") * 1024 };
}

export interface OperatorProcessOptions {
  readonly main: string;
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly resyncPeriod: string;
  /** The log file and any profiles go here. */
  readonly dir: string;
  readonly cpuProfile: boolean;
  readonly heapProfile: boolean;
  /** Names its log and memory files (a second process of one run gets its own). */
  readonly name: string;
  /** More node flags (findings only). */
  readonly nodeFlags?: readonly string[];
  /** NODE_OPTIONS, as the chart sets it (chart-node-options.ts). */
  readonly nodeOptions?: string;
}

export interface OperatorProcess {
  readonly pid: number;
  readonly webhookPort: number;
  readonly logPath: string;
  /** Its /metrics, parsed. */
  scrape(): Promise<Sample[]>;
  memory(): Memory;
  /** The heap figures the memory probe last wrote (undefined before its first write). */
  heap(): HeapFigures | undefined;
  /** Open sockets (its TCP connections, to the API server among them). */
  sockets(): number;
  /** Runs a full GC in the operator (SIGUSR2 to the memory probe) and returns the heap still in use. */
  liveHeap(): Promise<NodeJS.MemoryUsage>;
  /** SIGTERM (graceful stop: profiles are written at exit); resolves with the profile files. */
  stop(): Promise<string[]>;
}

export async function startOperatorProcess(options: OperatorProcessOptions): Promise<OperatorProcess> {
  const [metricsPort, webhookPort] = [await freePort(), await freePort()];
  const logPath = join(options.dir, `operator-${options.name}.log`);
  const memoryFile = join(options.dir, `memory-${options.name}.json`);
  const log = openSync(logPath, "a");
  const nodeFlags = [
    ...(options.nodeFlags ?? []),
    ...(options.cpuProfile ? ["--cpu-prof", `--cpu-prof-dir=${options.dir}`] : []),
    ...(options.heapProfile ? ["--heap-prof", `--heap-prof-dir=${options.dir}`] : []),
    "--import",
    fileURLToPath(new URL("./memory-probe.mjs", import.meta.url)),
  ];
  const child: Spawned = spawnTracked(
    process.execPath,
    [
      ...nodeFlags,
      options.main,
      `--kubeconfig=${options.kubeconfig}`,
      `--namespace=${options.namespace}`,
      `--metrics-listen=127.0.0.1:${metricsPort}`,
      `--webhook-listen=127.0.0.1:${webhookPort}`,
      `--webhook-url=https://127.0.0.1:${webhookPort}`,
      `--resync-period=${options.resyncPeriod}`,
      "--shutdown-delay=0s",
    ],
    {
      stdio: ["ignore", log, log],
      env: {
        ...process.env,
        NODE_ENV: "production",
        APICACHE_BENCH_MEMORY_FILE: memoryFile,
        NODE_OPTIONS: options.nodeOptions ?? "",
      },
    },
  );
  closeSync(log);
  const pid = child.child.pid;
  if (pid === undefined) throw new Error(`the operator did not start; see ${logPath}`);
  const exited = new Promise<void>((resolve) => child.child.once("exit", () => resolve()));
  let running = true;
  void exited.then(() => {
    running = false;
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  await waitFor(
    "the operator to be ready (leading, informers synced, webhook registered and listening)",
    async () => {
      if (!running) throw new Error(`the operator exited; see ${logPath}`);
      return (await fetch(`${metricsUrl}/readyz`)).ok;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  return {
    pid,
    webhookPort,
    logPath,
    scrape: async () => parseSamples(await (await fetch(`${metricsUrl}/metrics`)).text()),
    memory: () => readMemory(pid),
    heap: () => readHeap(memoryFile),
    sockets: () => countSockets(pid),
    liveHeap: async () => {
      const asked = Date.now();
      process.kill(pid, "SIGUSR2");
      return waitFor(
        "the operator's heap after a full GC",
        () => {
          const live = readHeap(memoryFile)?.live;
          return live && live.at >= asked ? live : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
    },
    stop: async () => {
      await child.stop(120_000);
      return readdirSync(options.dir)
        .filter((file) => file.endsWith(".cpuprofile") || file.endsWith(".heapprofile"))
        .map((file) => join(options.dir, file));
    },
  };
}

/** User + system CPU time of a process so far, in seconds (0 when it is gone or not ours to read). */
export function readCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces) start at state; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux.
  } catch {
    return 0;
  }
}

function countSockets(pid: number): number {
  try {
    const dir = `/proc/${pid}/fd`;
    return readdirSync(dir).filter((fd) => {
      try {
        return readlinkSync(join(dir, fd)).startsWith("socket:");
      } catch {
        return false;
      }
    }).length;
  } catch {
    return 0;
  }
}

function readHeap(file: string): HeapFigures | undefined {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as HeapFigures) : undefined;
  } catch {
    return undefined; // being replaced: the next read gets it
  }
}
