import { join } from "node:path";
import { DEMO_USAGE, parseDemoConfig } from "../harness/config.js";
import { createProgress } from "../harness/progress.js";
import { runSideBySide, type SideBySideRun } from "../harness/side-by-side.js";
import { REPO_ROOT } from "../harness/stack.js";
import { renderComparison } from "../harness/table.js";
import { dayFromAnchor } from "../sampler.js";
import { loadScenario } from "../scenario-files.js";

// `make demo`: the demo API (small dataset) and the sidecar on its in-memory store, a short side-by-side
// load, the improvement table for the five endpoint types, and where to look next.
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
const scenario = loadScenario("demo", config.overrides);
console.log(
  `apicache demo: the booking API directly vs. through the apicache sidecar, ${scenario.arrivalRate} requests/s for ${scenario.durationSeconds} s each (${Math.round(scenario.writeRatio * 100)}% writes).`,
);
const run: SideBySideRun = await runSideBySide({
  size: config.size,
  scenarios: [scenario],
  store: "memory",
  policyFile: config.policyFile,
  progress: createProgress(),
  keepLastSidecar: config.keepRunning,
  isolatedWrites: false,
  primeWrites: 0,
});
const [outcome] = run.outcomes;
if (!outcome) throw new Error("no outcome");
console.log(`\nResponse times per endpoint type (dataset size ${config.size}):\n`);
console.log(renderComparison(outcome.comparison));
console.log(
  `\nFailed responses: ${outcome.health.failed}; reads checked after a write: ${outcome.health.verified}, stale: ${outcome.health.stale}.`,
);

if (run.lastSidecar) {
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
load test; docs/load-testing.md explains the table and the k6 scripts for a cluster.`);
  await run.stop();
  process.exit(outcome.health.failed === 0 && outcome.health.stale === 0 ? 0 : 1);
}
