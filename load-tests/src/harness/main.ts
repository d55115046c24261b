import { join } from "node:path";
import { loadScenario } from "../scenario-files.js";
import { loadThresholds } from "../thresholds.js";
import { BENCH_USAGE, parseBenchConfig } from "./config.js";
import { createProgress } from "./progress.js";
import { renderOutcome, verdictsFor } from "./report.js";
import { writeSection } from "./results-file.js";
import { runSideBySide } from "./side-by-side.js";
import { REPO_ROOT } from "./stack.js";

const RESULTS_INTRO = `How to read it: each scenario runs twice at the same fixed arrival rate with the same request
stream, first against the demo API directly, then through a fresh sidecar in front of it. "direct" is
before, "sidecar" is after; improvement is (before - after) / before. Hit ratio and upstream requests
saved come from the \`Cache-Status\` header of each response. Columns and method: docs/load-testing.md.

Why these arrival rates: the demo API runs on PGlite, one single-threaded embedded Postgres, so the
direct path is one server that works on one query at a time. At the default size its uncached service
time averages about 0.42 s per request of the read mix (analytics and dashboards take 1.3-2 s), so it
saturates near 2.4 requests/s, less when other work shares the 2 cores. An open-model load above that
queues without bound and every "before" number becomes a function of the run's length. The scenarios
therefore run at 1 request/s, where the direct path keeps up (its p95 still includes queueing behind
the slow reports: that is what a busy database looks like); the sidecar path is measured at the same rate.

Why priming: at 1 request/s a cold cache would spend the whole run filling up, which is not what a
production cache serving hundreds of requests per second looks like. Before its warm-up the sidecar
path reads each distinct read of the scenario once; the misses left in the measured run come from
invalidations and expiry. For the same reason, in scenarios with writes each path first gets 300
idempotent updates one at a time: a fresh sidecar runs its write path unoptimized for its first few
hundred writes (+1.46 ms at p50 over a fresh sidecar's first 150 writes in one probe, +0.57 ms after
600). The mixed run's own 25-write p50 difference still moves by about a millisecond between runs
(+0.45 and +1.37 ms without that priming; +0.83, +1.09 and +1.18 ms with it): it mostly measures which
direct writes queued behind a report and how long idle processes take to wake at 1 request/s, so the
1 ms write criterion is judged on writes one at a time (docs/adr/0006-judging-write-overhead.md).

The mixed scenario's write mix (profile 47%, availability 24%, service 14%, appointments 8%, payments
6% of writes) and its invalidations: a write drops every entry under its tags, so how many misses it
causes depends on how many keys live under those tags and how many reads arrive per such write, not
on the request rate (writes are a fixed share of the traffic). Each booking drops its barber's slots
(the policy reads \`barberId\` from the request body, \`bodyFields\`; when every appointment write
dropped all slots, the slots hit ratio in this scenario was 35.9%, 65.4% since) and all dashboards,
each cancellation all slots, each payment all analytics; the next read of each dropped analytics or dashboard key
is a 1.5-2 s miss, and once those slow misses exceed 5% of the reads they are the reads' p95. Earlier
runs of this harness measured a reads-p95 improvement of 38.9% with 10% appointment and 8% payment
writes and four analytics keys, and 1.6% with availability updates also dropping dashboards (the
policy now leaves dashboards, a 15-minute business-intelligence view, to appointment writes, as the
platform did).`;

// `make bench`: every scenario directly and through the sidecar, side by side; prints the tables and
// records them in load-tests/results.md ("## Side-by-side load test"). Exit code 1 when a target is missed.
const parsed = parseBenchConfig(process.argv.slice(2), {
  policyFile: join(REPO_ROOT, "load-tests/policies/demo.yaml"),
  resultsFile: join(REPO_ROOT, "load-tests/results.md"),
});
if (!parsed.ok) {
  if (parsed.help) {
    console.log(BENCH_USAGE);
    process.exit(0);
  }
  console.error(`bench: ${parsed.problems.join("\n  ")}\n\n${BENCH_USAGE}`);
  process.exit(2);
}
const config = parsed.config;
const thresholds = loadThresholds();
const scenarios = config.scenarios.map((name) => loadScenario(name, config.overrides));
const started = new Date();
const run = await runSideBySide({
  size: config.size,
  scenarios,
  store: config.store,
  policyFile: config.policyFile,
  progress: createProgress(),
  isolatedWrites: true,
  primeWrites: 300,
  checkDashboard: true,
});
await run.stop();

const command = `make bench${process.argv.length > 2 ? ` BENCH_ARGS="${process.argv.slice(2).join(" ")}"` : ""}`;
const sections = run.outcomes.map((o) => renderOutcome(o, thresholds));
const body = [
  `Produced by \`${command}\` on ${started.toISOString().slice(0, 16).replace("T", " ")} UTC.`,
  `Machine: ${run.machine}. Dataset size \`${config.size}\`; sidecar store: ${config.store === "redis" ? "Redis (a local redis-server) behind the in-process L1" : "in-memory"}.`,
  `Sidecar: \`${run.sidecarCommand}\`. Latencies are measured by the load generator from each request's scheduled time.`,
  "",
  ...sections.flatMap((s) => [s, ""]),
].join("\n");
console.log(`\n${body}`);
if (config.resultsFile) {
  writeSection(config.resultsFile, "## Side-by-side load test", `${RESULTS_INTRO}\n\n${body}`);
  console.log(`recorded in ${config.resultsFile}`);
}
const failed = run.outcomes.flatMap((o) => verdictsFor(o, thresholds)).filter((v) => !v.pass);
if (failed.length > 0) {
  console.error(
    `\n${failed.length} target(s) missed:\n  ${failed.map((v) => `${v.criterion}: ${v.measured}`).join("\n  ")}`,
  );
  process.exit(1);
}
process.exit(0);
