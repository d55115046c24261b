import { loadScenario } from "../scenario-files.js";
import { createHttpClient } from "./http-client.js";
import { JOB_USAGE, parseJobConfig } from "./job-config.js";
import {
  type JobReport,
  type JobScenarioReport,
  renderJobReport,
  reportLine,
  scenarioReport,
} from "./job-report.js";
import { describeMachine } from "./machine.js";
import { createProgress } from "./progress.js";
import { runPhase } from "./run-scenario.js";

// The load harness as a Job in the cluster (load-tests/cluster/bench-job.yaml, `make bench-cluster`):
// per scenario, the demo API directly (a Service to the API container's port), then through its
// Service (the injected sidecar), at the same rate with the same request stream. Prints the markdown
// table, then the report as one JSON line (job-report.ts). Exit 0 once both paths ran, whatever they
// measured: the reader judges; 1 when the run could not happen; 2 on bad flags.
const parsed = parseJobConfig(process.argv.slice(2));
if (!parsed.ok) {
  if (parsed.help) {
    console.log(JOB_USAGE);
    process.exit(0);
  }
  console.error(`bench job: ${parsed.problems.join("\n  ")}\n\n${JOB_USAGE}`);
  process.exit(2);
}
const config = parsed.config;
const progress = createProgress();

/** A new Service's name takes a moment to reach the cluster DNS: wait until both targets answer. */
async function waitForTarget(baseUrl: string, deadlineMs: number): Promise<void> {
  const client = createHttpClient(baseUrl, 5_000);
  let last = "";
  try {
    while (Date.now() < deadlineMs) {
      try {
        const response = await client.send("GET", "/healthz");
        if (response.status === 200) return;
        last = `HTTP ${response.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    client.close();
  }
  throw new Error(`${baseUrl}/healthz did not answer 200 within 60 s (last: ${last})`);
}

try {
  const machine = describeMachine();
  const started = new Date();
  const deadline = Date.now() + 60_000;
  await Promise.all([waitForTarget(config.directUrl, deadline), waitForTarget(config.sidecarUrl, deadline)]);
  progress(`targets answer: direct ${config.directUrl}, sidecar ${config.sidecarUrl}`, true);
  const scenarios: JobScenarioReport[] = [];
  for (const name of config.scenarios) {
    const scenario = loadScenario(name, config.overrides);
    const phase = { scenario, primeWrites: config.primeWrites, progress };
    const direct = await runPhase({
      ...phase,
      label: `${name} · direct`,
      baseUrl: config.directUrl,
      prime: false,
    });
    const sidecar = await runPhase({
      ...phase,
      label: `${name} · sidecar`,
      baseUrl: config.sidecarUrl,
      prime: scenario.primeCache,
    });
    scenarios.push(scenarioReport(scenario, direct, sidecar));
  }
  const report: JobReport = {
    version: 1,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    directUrl: config.directUrl,
    sidecarUrl: config.sidecarUrl,
    scenarios,
  };
  console.log(`\n${renderJobReport(report)}\n`);
  console.log(reportLine(report));
  process.exit(0);
} catch (error) {
  console.error(`bench job: ${(error as Error).message}`);
  process.exit(1);
}
