import { readFileSync } from "node:fs";
import { join } from "node:path";
import { benchJobFile, runBenchJob } from "@apicache/testkit/cluster/bench-job";
import { benchJobArgs, withFlags } from "@apicache/testkit/cluster/bench-job-manifest";
import { clusterTools } from "@apicache/testkit/cluster/demo";
import { clusterStatus, defaultClusterDir } from "@apicache/testkit/cluster/node-cluster";
import { CLUSTER_HEADING, clusterSection } from "./cluster-section.js";
import { readFlags } from "./config.js";
import { readJobReport, renderJobReport } from "./job-report.js";
import { writeSection } from "./results-file.js";
import { REPO_ROOT } from "./stack.js";

// `make bench-cluster`, after `make cluster-demo`: the load harness as a Job in the test cluster
// (load-tests/cluster/bench-job.yaml), the demo API directly vs through its injected sidecar. Waits for
// the Job, prints its table and records it in load-tests/results.md ("## In the cluster"). The cluster
// and the demo stay up, as after `make cluster-demo` (`make cluster-down` removes them).
const USAGE = `Usage: bench-cluster [--scenarios LIST] [--duration S] [--warmup S] [--rate R] [--no-results]

Runs load-tests/cluster/bench-job.yaml on the running test cluster (make cluster-demo), with the
harness flags given here replacing the manifest's, and records the table in load-tests/results.md.
`;

const flags = readFlags(process.argv.slice(2), {
  scenarios: { type: "string" },
  duration: { type: "string" },
  warmup: { type: "string" },
  rate: { type: "string" },
  "no-results": { type: "boolean" },
  help: { type: "boolean", short: "h" },
});
if (!flags.ok) {
  if (flags.help) {
    console.log(USAGE);
    process.exit(0);
  }
  console.error(`bench-cluster: ${flags.problems.join("\n  ")}\n\n${USAGE}`);
  process.exit(2);
}
const say = (line: string) => process.stderr.write(`>> ${line}\n`);
const given = Object.fromEntries(
  ["scenarios", "duration", "warmup", "rate"]
    .filter((name) => typeof flags.values[name] === "string")
    .map((name) => [`--${name}`, flags.values[name] as string]),
);
const args = withFlags(benchJobArgs(readFileSync(benchJobFile, "utf8")), given);

const cluster = await clusterStatus(defaultClusterDir);
if (cluster === undefined) {
  console.error("bench-cluster: the test cluster is not running: `make cluster-demo` first");
  process.exit(1);
}
say(`the load Job in namespace apicache-demo: job-main.js ${args.join(" ")}`);
const run = await runBenchJob(clusterTools(cluster.kubeconfigPath), {
  args,
  timeoutMs: 40 * 60_000,
  progress: say,
});
const read = readJobReport(run.log);
if (!run.succeeded || !read.ok) {
  const why = run.succeeded ? (read.ok ? "" : read.problem) : "the Job failed";
  console.error(`bench-cluster: ${why}; its log ends:\n${run.log.split("\n").slice(-30).join("\n")}`);
  process.exit(1);
}
console.log(`\n${renderJobReport(read.report)}\n`);
const command = `make bench-cluster${process.argv.length > 2 ? ` BENCH_CLUSTER_ARGS="${process.argv.slice(2).join(" ")}"` : ""}`;
if (flags.values["no-results"] !== true) {
  const file = join(REPO_ROOT, "load-tests/results.md");
  writeSection(
    file,
    CLUSTER_HEADING,
    clusterSection({ report: read.report, command, args, jobSeconds: run.seconds }),
  );
  console.log(`recorded in ${file}`);
}
process.exit(0);
