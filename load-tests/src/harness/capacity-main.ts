import { loadavg } from "node:os";
import { join } from "node:path";
import { loadScenario } from "../scenario-files.js";
import { loadThresholds } from "../thresholds.js";
import { CAPACITY_USAGE, parseCapacityConfig } from "./capacity-config.js";
import {
  renderAtDirectCapacity,
  renderCapacityTable,
  renderEqualLoadDbWork,
  renderOriginalTable,
} from "./capacity-report.js";
import { type CapacityRun, runCapacity } from "./capacity-run.js";
import { createProgress } from "./progress.js";
import { writeSection } from "./results-file.js";
import { REPO_ROOT } from "./stack.js";

const INTRO = `How to read it: the latency tables of "Side-by-side load test" compare both paths at one low rate.
This section asks how much load each path carries. For each path (the demo API directly, and through a
fresh sidecar in front of the same API) the search probes open-model arrival rates: each probe sends the
scenario's request stream at one rate for a warm-up, then for a judged window; a rate holds when the
window's p95 is within the scenario's SLO and no response failed. Rates climb a ladder (x2 directly, x4
through the sidecar, starting at the direct capacity) and are then bisected to within 10%. A probe whose
p95 is already certain to miss stops early. SLO, windows and ladder: load-tests/thresholds.json
("capacity"); the k6 capacity scenario (load-tests/k6/capacity.ts) runs the same ladder with the same SLO.
Latencies are measured from each request's scheduled time. CPU comes from /proc/<pid>/stat of the sidecar
and demo API processes. SQL statements are counted by the demo API itself (GET /demo/db-stats).
Method and caveats: docs/load-testing.md and docs/adr/0025-capacity-search.md.`;

const parsed = parseCapacityConfig(process.argv.slice(2), {
  policyFile: join(REPO_ROOT, "load-tests/policies/demo.yaml"),
  resultsFile: join(REPO_ROOT, "load-tests/results.md"),
  targets: loadThresholds().capacity,
});
if (!parsed.ok) {
  if (parsed.help) {
    console.log(CAPACITY_USAGE);
    process.exit(0);
  }
  console.error(`bench-capacity: ${parsed.problems.join("\n  ")}\n\n${CAPACITY_USAGE}`);
  process.exit(2);
}
const config = parsed.config;
const thresholds = loadThresholds();
const started = new Date();
const loadAtStart = loadavg()[0] ?? 0;
const runs: CapacityRun[] = [];
for (const name of config.scenarios) {
  runs.push(
    await runCapacity({
      scenario: loadScenario(name),
      size: config.size,
      store: config.store,
      policyFile: config.policyFile,
      targets: thresholds.capacity,
      maxFailed: thresholds.maxFailedResponses,
      windowSeconds: config.windowSeconds,
      warmupSeconds: config.warmupSeconds,
      equalWindowSeconds: config.equalWindowSeconds,
      maxRate: config.maxRate,
      progress: createProgress(),
    }),
  );
}

const command = `make bench-capacity${process.argv.length > 2 ? ` BENCH_CAPACITY_ARGS="${process.argv.slice(2).join(" ")}"` : ""}`;
const sections = runs.map((run) =>
  [
    `### Scenario \`${run.scenario.name}\``,
    "",
    `Searched in ${(run.seconds / 60).toFixed(1)} minutes. The sidecar path's cache was primed once (${run.primedKeys} distinct reads) before its first probe.`,
    "",
    renderCapacityTable(run),
    "",
    renderAtDirectCapacity(run),
    "",
    renderOriginalTable(run),
    "",
    renderEqualLoadDbWork(run),
  ].join("\n"),
);
const body = [
  `Produced by \`${command}\` on ${started.toISOString().slice(0, 16).replace("T", " ")} UTC.`,
  `Machine: ${runs[0]?.machine ?? "unknown"}; 1-minute load average ${(loadavg()[0] ?? 0).toFixed(2)} at end${loadAtStart > 1.5 ? " (a busy machine: other work shared the cores, so both paths' capacities are lower than on an idle one)" : ""}.`,
  `Dataset size \`${config.size}\`; sidecar store: ${config.store === "redis" ? "Redis (a local redis-server) behind the in-process L1" : "in-memory"}. Sidecar: \`${runs[0]?.sidecarCommand ?? ""}\`.`,
  "",
  ...sections.flatMap((s) => [s, ""]),
].join("\n");
console.log(`\n${body}`);
if (config.resultsFile) {
  writeSection(config.resultsFile, "## Capacity (make bench-capacity)", `${INTRO}\n\n${body}`);
  console.log(`recorded in ${config.resultsFile}`);
}
process.exit(0);
