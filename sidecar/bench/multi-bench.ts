/**
 * `make bench-multi`: a benchmark, not a test. Many replicas on one Redis (issue #14, acceptance item 8):
 *
 *   1. L1 hit vs Redis hit with 3 replicas (multi-hits.ts)
 *   2. invalidation propagation to the other replicas' L1, p50/p99 against the 5 ms target (multi-propagation.ts)
 *   3. the demo's mixed scenario, hit ratio and upstream requests with 3 replicas vs 1 (multi-hit-ratio.ts)
 *
 * Prints the tables and writes the "Many replicas (make bench-multi)" section of load-tests/results.md.
 * Exits 1 only on a broken run (a request failed, a hit was not a hit, a push never came), not on slow
 * figures; it says whether the propagation target held.
 *
 *   npx tsx --conditions=source sidecar/bench/multi-bench.ts [--help]
 */
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createProgress } from "@apicache/load-tests/harness/progress";
import { writeSection } from "@apicache/load-tests/harness/results-file";
import { percentile } from "@apicache/load-tests/harness/stats";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { buildSidecar, REPO, RESULTS, stopChildren } from "./bench-children.js";
import { MULTI_USAGE, type MultiConfig, parseMultiConfig } from "./multi-config.js";
import { measureHitRatio } from "./multi-hit-ratio.js";
import { measureHits } from "./multi-hits.js";
import { measurePropagation } from "./multi-propagation.js";
import { failed, MULTI_SECTION_HEADING, summarizePropagation } from "./multi-report.js";
import { formatMultiSection, type MultiRun } from "./multi-section.js";

const HOST = "bench-multi.local";

const parsed = parseMultiConfig(process.argv.slice(2));
if (!parsed.ok) {
  if (parsed.help) {
    console.log(MULTI_USAGE);
    process.exit(0);
  }
  console.error(`bench-multi: ${parsed.problems.join("\n  ")}\n\n${MULTI_USAGE}`);
  process.exit(2);
}
const config = parsed.config;
const progress = createProgress();
const say = (line: string) => progress(line, true);
const redisServers: RedisServer[] = [];

async function freshRedis(): Promise<string> {
  const redis = await startRedis();
  redisServers.push(redis);
  return redis.url;
}

async function cleanup(): Promise<void> {
  await stopChildren();
  await Promise.all(redisServers.splice(0).map((redis) => redis.stop()));
}

async function hitsPart(build: string): Promise<MultiRun["hits"]> {
  const run = await measureHits({
    ...config,
    build,
    redisUrl: await freshRedis(),
    host: HOST,
    progress: say,
  });
  await cleanup();
  return { ...run, descriptions: run.results.map((r) => `**${r.name}**: ${r.description}`) };
}

async function propagationPart(build: string): Promise<MultiRun["propagation"]> {
  const run = await measurePropagation({
    build,
    redisUrl: await freshRedis(),
    replicas: config.replicas,
    writes: config.writes,
    host: HOST,
    deadlineMs: 2_000,
    progress: say,
  });
  await cleanup();
  return {
    summary: summarizePropagation(run.samples, run.writes),
    probeP50Ms: percentile(run.probeMs, 50),
    pushedEvictions: run.pushedEvictions,
  };
}

async function hitRatioPart(): Promise<MultiRun["hitRatio"]> {
  const run = await measureHitRatio({
    entry: join(REPO, "sidecar", "dist", "main.js"),
    size: config.size,
    replicas: [1, config.replicas],
    arrivalRate: config.rate,
    durationSeconds: config.mixedSeconds,
    warmupSeconds: config.mixedWarmupSeconds,
    host: HOST,
    progress,
  });
  const [one, many] = run.phases;
  if (one === undefined || many === undefined) throw new Error("the hit-ratio run returned no phases");
  return {
    phases: [one, many],
    rate: config.rate,
    durationSeconds: config.mixedSeconds,
    warmupSeconds: config.mixedWarmupSeconds,
    size: config.size,
    primedKeys: one.primedKeys,
  };
}

/** What makes a run broken rather than slow: failed requests, no push dropping any L1 copy. */
function brokenBy(run: MultiRun): string[] {
  const problems: string[] = [];
  for (const r of run.hits?.results ?? []) {
    const failed = r.latency.failures + r.throughput.failures;
    if (failed > 0) problems.push(`hits: ${r.name}: ${failed} failed requests`);
  }
  if (run.propagation && run.propagation.pushedEvictions === 0) {
    problems.push("propagation: no L1 copy was dropped by a push (is the invalidation channel up?)");
  }
  for (const phase of run.hitRatio?.phases ?? []) {
    const broken = failed(phase);
    if (broken > 0)
      problems.push(`hit ratio: ${phase.replicas} replica(s): ${broken} requests failed (5xx or no answer)`);
  }
  return problems;
}

function describeMachine(loadBefore: number): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return (
    `${availableParallelism()} CPUs (nproc; ${cpu}), Node ${process.version}, ${process.platform}/${process.arch}; ` +
    `1-min load average ${loadBefore.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end`
  );
}

async function main(config: MultiConfig): Promise<number> {
  const loadBefore = loadavg()[0] ?? 0;
  const build = buildSidecar(REPO);
  const hits = config.parts.includes("hits") ? await hitsPart(build) : undefined;
  const propagation = config.parts.includes("propagation") ? await propagationPart(build) : undefined;
  const hitRatio = config.parts.includes("hit-ratio") ? await hitRatioPart() : undefined;
  const args = process.argv.slice(2).join(" ");
  const run: MultiRun = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    machine: describeMachine(loadBefore),
    command: `make bench-multi${args === "" ? "" : ` BENCH_MULTI_ARGS="${args}"`}`,
    replicas: config.replicas,
    ...(hits ? { hits } : {}),
    ...(propagation ? { propagation } : {}),
    ...(hitRatio ? { hitRatio } : {}),
  };
  const body = formatMultiSection(run);
  console.log(`\n${MULTI_SECTION_HEADING}\n\n${body}`);
  if (propagation) {
    const p = propagation.summary;
    console.log(
      `propagation p99 ${p.fresh.p99.toFixed(3)} ms: the ≤ 5 ms target ${p.targetMet ? "held" : "was NOT met"}`,
    );
  }
  if (config.write) {
    writeSection(RESULTS, MULTI_SECTION_HEADING, body);
    console.log(`wrote the "${MULTI_SECTION_HEADING.slice(3)}" section of ${RESULTS}`);
  }
  const broken = brokenBy(run);
  if (broken.length > 0) console.error(`\nbroken run:\n  ${broken.join("\n  ")}`);
  return broken.length > 0 ? 1 : 0;
}

process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
let code = 1;
try {
  code = await main(config);
} catch (error) {
  console.error(`bench-multi failed: ${(error as Error).stack ?? error}`);
} finally {
  await cleanup();
}
process.exit(code);
