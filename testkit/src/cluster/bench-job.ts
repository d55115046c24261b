import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../kube/tools.js";
import { benchJobManifest, benchJobName } from "./bench-job-manifest.js";
import { type ClusterTools, demoNamespace } from "./demo.js";

/**
 * Runs the load harness's Job (load-tests/cluster/bench-job.yaml) on a cluster where the demo runs
 * (deployDemo): removes the previous run's Job, applies the Service and the Job, polls the Job until it
 * succeeds or fails (with a deadline, printing its latest log line now and then) and returns its log.
 * `make bench-cluster` and the cluster tier both use it.
 */
export const benchJobFile = join(repoRoot, "load-tests", "cluster", "bench-job.yaml");

export interface BenchJobOptions {
  /** Replace the harness's arguments (default: the manifest's, the full run). */
  readonly args?: readonly string[];
  readonly timeoutMs: number;
  readonly progress: (line: string) => void;
  /** How often a progress line is printed (default 10 s). */
  readonly progressEveryMs?: number;
}

export interface BenchJobRun {
  readonly succeeded: boolean;
  /** From apply to the Job's end. */
  readonly seconds: number;
  /** The harness's whole output (progress on stderr, the table and the report line on stdout). */
  readonly log: string;
}

interface JobStatus {
  status?: { succeeded?: number; failed?: number; active?: number };
}

export async function runBenchJob(tools: ClusterTools, options: BenchJobOptions): Promise<BenchJobRun> {
  const { k } = tools;
  const ns = ["-n", demoNamespace];
  await k([...ns, "delete", "job", benchJobName, "--ignore-not-found", "--wait=true", "--timeout=60s"]);
  const manifest = benchJobManifest(readFileSync(benchJobFile, "utf8"), options.args);
  const started = Date.now();
  await k(["apply", "-f", "-"], manifest);
  const deadline = started + options.timeoutMs;
  const every = options.progressEveryMs ?? 10_000;
  let lastProgress = 0;
  for (;;) {
    const job = JSON.parse(await k([...ns, "get", "job", benchJobName, "-o", "json"])) as JobStatus;
    const done = (job.status?.succeeded ?? 0) > 0 || (job.status?.failed ?? 0) > 0;
    if (done) {
      const log = await k([...ns, "logs", `job/${benchJobName}`, "--tail=-1"]);
      return { succeeded: (job.status?.succeeded ?? 0) > 0, seconds: (Date.now() - started) / 1000, log };
    }
    if (Date.now() > deadline) {
      const tail = await k([...ns, "logs", `job/${benchJobName}`, "--tail=20"]).catch(String);
      throw new Error(
        `the Job ${benchJobName} did not finish within ${Math.round(options.timeoutMs / 1000)} s; its log ends:\n${tail}`,
      );
    }
    if (Date.now() - lastProgress >= every) {
      lastProgress = Date.now();
      options.progress(`[${Math.round((Date.now() - started) / 1000)} s] ${await latestLine(tools)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** The Job's latest log line, or where its pod is when it has no log yet. */
async function latestLine(tools: ClusterTools): Promise<string> {
  const line = await tools
    .k(["-n", demoNamespace, "logs", `job/${benchJobName}`, "--tail=1"])
    .then((text) => text.trim())
    .catch(() => "");
  // The report line (one long JSON) is for the reader, not for a progress line.
  if (line.startsWith("APICACHE_BENCH_REPORT ")) return "the report is printed";
  if (line !== "") return line.length > 200 ? `${line.slice(0, 200)}…` : line;
  const phases = await tools
    .k([
      "-n",
      demoNamespace,
      "get",
      "pods",
      "-l",
      `job-name=${benchJobName}`,
      "-o",
      "jsonpath={.items[*].status.phase}",
    ])
    .catch(() => "");
  return `the Job's pod: ${phases.trim() || "not created yet"}`;
}
