import { join } from "node:path";
import { DEMO_USAGE, parseDemoConfig } from "../harness/config.js";
import { statementReduction } from "../harness/db-stats.js";
import { createProgress } from "../harness/progress.js";
import { runSideBySide, type SideBySideRun, startDemoApiWithProgress } from "../harness/side-by-side.js";
import { REPO_ROOT } from "../harness/stack.js";
import { renderComparison } from "../harness/table.js";
import { dayFromAnchor } from "../sampler.js";
import { loadScenario } from "../scenario-files.js";
import { capacitySlo, loadThresholds } from "../thresholds.js";
import { calibrateReads, quickCapacity } from "./quick-capacity.js";
import { capacityLine, demoRate } from "./rate.js";

// `make demo`: the demo API (small dataset) and the sidecar on its in-memory store; a quick unloaded
// calibration sets a rate the direct path sustains (rate.ts); a short side-by-side load at that rate,
// the improvement table for the five endpoint types with the SQL statements each path cost; quick
// capacity probes of both paths; and where to look next. Under 2 minutes.
const parsed = parseDemoConfig(process.argv.slice(2), process.env, {
  policyFile: join(REPO_ROOT, "load-tests/policies/demo.yaml"),
  interactive: process.stdout.isTTY === true,
});
if (!parsed.ok) {
  if (parsed.help) {
    console.log(DEMO_USAGE);
    process.exit(0);
  }
  console.error(`demo: ${parsed.problems.join("\n  ")}\n\n${DEMO_USAGE}`);
  process.exit(2);
}
const config = parsed.config;
const demoStarted = performance.now();
const targets = loadThresholds().capacity;
const progress = createProgress();
const base = loadScenario("demo", config.overrides);
const demoApi = await startDemoApiWithProgress({ size: config.size, progress });
const derived = demoRate({
  timesMs: await calibrateReads(demoApi.url, base),
  weights: Object.fromEntries(base.reads.map((r) => [r.name, r.weight])),
  fraction: targets.demoLoadFraction,
});
const scenario = { ...base, arrivalRate: config.overrides.arrivalRate ?? derived.rate };
console.log(
  `apicache demo: the booking API directly vs. through the apicache sidecar, ${scenario.arrivalRate} requests/s for ${scenario.durationSeconds} s each (${Math.round(scenario.writeRatio * 100)}% writes).`,
);
console.log(
  config.overrides.arrivalRate
    ? "The rate was set with --rate."
    : `Why this rate: unloaded, one request of this mix takes the demo API ${derived.serviceMs.toFixed(0)} ms on average (timed at start), so directly it cannot sustain more than ${derived.ceiling.toFixed(1)} requests/s; the demo runs at ${Math.round(derived.fraction * 100)}% of that, where the direct path keeps up and the table measures service, not a queue.`,
);
const run: SideBySideRun = await runSideBySide({
  size: config.size,
  scenarios: [scenario],
  store: "memory",
  policyFile: config.policyFile,
  progress,
  demoApi,
  keepLastSidecar: true,
  isolatedWrites: false,
  primeWrites: 0,
  countStatements: true,
});
const [outcome] = run.outcomes;
if (!outcome || !run.lastSidecar) throw new Error("no outcome");
console.log(`\nResponse times per endpoint type (dataset size ${config.size}):\n`);
console.log(renderComparison(outcome.comparison));
console.log(
  `\nFailed responses: ${outcome.health.failed}; reads checked after a write: ${outcome.health.verified}, stale: ${outcome.health.stale}.`,
);
if (outcome.db) {
  const { direct, sidecar } = outcome.db;
  console.log(
    `Database work: ${direct.statementsPerSecond.toFixed(1)} SQL statements/s directly, ${sidecar.statementsPerSecond.toFixed(1)}/s through the sidecar at the same ${scenario.arrivalRate} requests/s (${direct.statementsPerRequest.toFixed(2)} vs ${sidecar.statementsPerRequest.toFixed(2)} per request, ${statementReduction(direct, sidecar).toFixed(1)}% fewer).`,
  );
}
const sloMs = capacitySlo(targets, "demo");
const windowSeconds = config.short ? 2 : 3;
const capacity = await quickCapacity({
  scenario,
  apiUrl: run.demoApi.url,
  sidecarUrl: run.lastSidecar.url,
  sidecarPid: run.lastSidecar.pid,
  startRate: scenario.arrivalRate,
  maxRate: config.short ? 40 : 400,
  sloMs,
  windowSeconds,
  progress,
});
console.log(capacityLine({ sloMs, windowSeconds, direct: capacity.direct, sidecar: capacity.sidecar }));
console.log(`(The demo took ${((performance.now() - demoStarted) / 1000).toFixed(0)} s.)`);

if (config.keepRunning) {
  const sidecar = run.lastSidecar;
  const day = dayFromAnchor(5); // a date the demo scenario never reads: the first curl is a miss
  console.log(`
Still running, try it (Ctrl-C stops everything):
  through the sidecar   ${sidecar.url}    the demo API directly   ${run.demoApi.url}
  Cache-Status header   curl -si '${sidecar.url}/api/v2/barbers/42/slots?date=${day}' | grep -i cache-status   (twice: miss, then hit)
  compare the timing    curl -so /dev/null -w '%{time_total}s\\n' '${run.demoApi.url}/api/v2/analytics/revenue?range=90d'
                        curl -so /dev/null -w '%{time_total}s\\n' '${sidecar.url}/api/v2/analytics/revenue?range=90d'   (run it twice)
  invalidation          curl -s -X PUT ${sidecar.url}/api/v2/services/3 -H 'content-type: application/json' -d '{"description":"new"}'
                        then GET ${sidecar.url}/api/v2/services again: a miss with the new version
  database work         curl -s ${run.demoApi.url}/demo/db-stats   (SQL statements the API has sent)
  metrics               curl -s ${sidecar.adminUrl}/metrics | grep -E 'apicache_(requests_total|invalidations_total)'
  stats                 curl -s ${sidecar.adminUrl}/stats
  the policy            load-tests/policies/demo.yaml   more: docs/load-testing.md (make bench, k6 in a cluster)`);
  const stop = () => {
    console.log("\nstopping the demo");
    run.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} else {
  console.log(`
Where to look next: \`make demo\` in a terminal keeps the stack up and prints curl commands to try
(Cache-Status headers, the sidecar's /metrics and /stats); \`make bench\` runs the full side-by-side
load test and \`make bench-capacity\` the capacity search; docs/load-testing.md explains the tables and
the k6 scripts for a cluster.`);
  await run.stop();
  process.exit(outcome.health.failed === 0 && outcome.health.stale === 0 ? 0 : 1);
}
