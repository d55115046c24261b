import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readJobReport } from "../../../load-tests/src/harness/job-report.js";
import { benchJobFile, runBenchJob } from "../../../testkit/src/cluster/bench-job.js";
import { benchJobArgs, benchJobName, withFlags } from "../../../testkit/src/cluster/bench-job-manifest.js";
import { clusterKubeconfigPath } from "../../../testkit/src/cluster/cluster-context.js";
import { demoNamespace, deployDemo, installChart } from "../../../testkit/src/cluster/demo.js";
import { connectDemoStack, type DemoStack } from "./demo-stack.js";

// The load harness as a Job in the cluster (load-tests/cluster/bench-job.yaml, `make bench-cluster`), a
// short version: the read-only scenario, 20 s measured per path after a 3 s warm-up, at 3 requests/s,
// from a pod to the demo API directly (demo-api-direct) and through its Service (the injected sidecar).
// Works whether or not the chart's own file ran first (it uninstalls the release at its end).
const SIDECAR = "apicache-sidecar";
const SHORT = { "--scenarios": "read-only", "--duration": "20", "--warmup": "3", "--rate": "3" };

let stack: DemoStack;
const say = (line: string) => process.stdout.write(`[cluster bench job] ${line}\n`);

beforeAll(async () => {
  stack = await connectDemoStack(clusterKubeconfigPath());
  const started = Date.now();
  await installChart(stack);
  await deployDemo(stack);
  // Pods started while no webhook answered run without the sidecar: roll them once if any did.
  const pods = await stack.pods(demoNamespace, "app=demo-api");
  if (pods.some((pod) => !pod.containers.some((c) => c.name === SIDECAR))) {
    await stack.k(["-n", demoNamespace, "rollout", "restart", "deployment/demo-api"]);
    await stack.k(["-n", demoNamespace, "rollout", "status", "deployment/demo-api", "--timeout=180s"]);
  }
  say(`chart and demo ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
});

afterEach(async (context) => {
  if (context.task.result?.state === "fail")
    say(`state after the failed step:\n${await stack.diagnostics()}`);
});

afterAll(async () => {
  await stack?.k(["-n", demoNamespace, "delete", "job", benchJobName, "--ignore-not-found", "--wait=false"]);
  await stack?.k(["-n", demoNamespace, "delete", "service", "demo-api-direct", "--ignore-not-found"]);
  await stack?.close();
});

describe("the load harness as a Job in the cluster", () => {
  it("completes a short side-by-side run: both paths answer every request, the sidecar path hits its cache and answers faster at p50", async () => {
    const args = withFlags(benchJobArgs(readFileSync(benchJobFile, "utf8")), SHORT);
    const run = await runBenchJob(stack, { args, timeoutMs: 150_000, progress: say });
    expect(run.succeeded, run.log.split("\n").slice(-20).join("\n")).toBe(true);
    const read = readJobReport(run.log);
    if (!read.ok) throw new Error(`${read.problem}\n${run.log}`);
    const [scenario] = read.report.scenarios;
    if (scenario === undefined) throw new Error("the report has no scenario");
    const { reads } = scenario.comparison;
    say(
      `${Math.round(run.seconds)}s; reads p50 ${reads.before.p50.toFixed(1)} ms direct, ${reads.after.p50.toFixed(1)} ms through the sidecar; ` +
        `p95 ${reads.before.p95.toFixed(1)} / ${reads.after.p95.toFixed(1)} ms; hit ratio ${(reads.hitRatio * 100).toFixed(1)}%`,
    );
    expect(scenario.errors).toEqual([]);
    expect(scenario.failed).toEqual({ direct: 0, sidecar: 0 });
    // 3 requests/s for 20 s on each path, every one answered.
    expect(reads.before.n).toBe(60);
    expect(reads.after.n).toBe(60);
    // demo-api-direct bypasses the sidecar: no response on that path carries its Cache-Status.
    expect(reads.before.hits).toBe(0);
    expect(reads.hitRatio).toBeGreaterThan(0);
    expect(reads.after.p50).toBeLessThan(reads.before.p50);
  }, 240_000);
});
