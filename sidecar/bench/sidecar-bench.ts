/**
 * The sidecar micro-benchmark (`make bench-sidecar`): a benchmark, not a test. Side by side in one
 * run, on loopback, each server in its own process:
 *
 *   floor            bare node:http returning a precomputed buffer
 *   upstream direct  the app the sidecar fronts (builds the same bytes per request)
 *   sidecar L1 hit   sidecar + Redis, maxEntryAge 1s: answered from the in-process tier
 *   sidecar Redis hit sidecar + Redis, maxEntryAge 0s: every hit read from Redis
 *   sidecar miss     sidecar + Redis, a no-store route: lookup, forward, not stored
 *
 * Prints the table and writes it into load-tests/results.md ("## Sidecar micro-benchmark"). The
 * sidecars run the tsc build (`sidecar/dist`, compiled first), as the image does.
 *
 * Scenarios are measured in interleaved rounds (floor, upstream, …, floor, upstream, …) so a burst of
 * load from other processes on a shared machine does not land on one row only: req/s is the median
 * of the rounds, latency percentiles are over every response of every round.
 *
 *   npx tsx --conditions=source sidecar/bench/sidecar-bench.ts [--duration 3] [--rounds 3]
 *       [--connections 16] [--body-bytes 2048] [--no-write] [--baseline DIR]
 *
 * `--baseline DIR`: also measures the sidecar of an older checkout, side by side in the same rounds
 * (its own redis-server), and adds a table of ratios. DIR holds that checkout's `sidecar/` and must sit
 * inside this repository so its imports resolve (e.g. `git archive <commit> sidecar | tar -x -C
 * .bench-baseline`).
 */
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg } from "node:os";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { buildSidecar, REPO, RESULTS, spawnChild, stopChildren } from "./bench-children.js";
import { combine, load, probe, type RawRun } from "./bench-load.js";
import {
  type BenchRun,
  checkTargets,
  compareWithBaseline,
  formatComparison,
  formatSection,
  formatTable,
  formatTargets,
  replaceSection,
  type ScenarioResult,
} from "./bench-report.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "16" },
    "body-bytes": { type: "string", default: "2048" },
    "no-write": { type: "boolean", default: false },
    baseline: { type: "string" },
  },
});
const BASELINE = args.baseline === undefined ? undefined : resolve(args.baseline);
const DURATION = Math.max(1, Math.min(60, Number(args.duration)));
const ROUNDS = Math.max(1, Math.min(10, Number(args.rounds)));
const CONNECTIONS = Math.max(1, Math.min(256, Number(args.connections)));
const BODY_BYTES = Math.max(16, Math.min(1 << 20, Number(args["body-bytes"])));

interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly url: string;
}

/** Every other round runs each baseline scenario before its counterpart: neither always goes first. */
function roundOrder(scenarios: readonly Scenario[], round: number): Scenario[] {
  const order = [...scenarios];
  if (round % 2 === 1) return order;
  for (let i = 0; i + 1 < order.length; i++) {
    const [first, second] = [order[i] as Scenario, order[i + 1] as Scenario];
    if (first.name.startsWith("sidecar ") && second.name === first.name.replace(/^sidecar /, "baseline ")) {
      order[i] = second;
      order[i + 1] = first;
      i++;
    }
  }
  return order;
}

async function measureAll(scenarios: readonly Scenario[]): Promise<ScenarioResult[]> {
  const statuses = new Map<string, string>();
  for (const scenario of scenarios) {
    statuses.set(scenario.name, await probe(scenario.url));
    await load({ url: scenario.url, connections: CONNECTIONS, durationSeconds: 1 });
  }
  const latency = new Map<string, RawRun[]>(scenarios.map((s) => [s.name, []]));
  const throughput = new Map<string, RawRun[]>(scenarios.map((s) => [s.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of roundOrder(scenarios, round)) {
      process.stdout.write(`>> round ${round}/${ROUNDS} ${scenario.name}: `);
      const single = await load({ url: scenario.url, connections: 1, durationSeconds: DURATION });
      const many = await load({ url: scenario.url, connections: CONNECTIONS, durationSeconds: DURATION });
      latency.get(scenario.name)?.push(single);
      throughput.get(scenario.name)?.push(many);
      process.stdout.write(
        `${Math.round(many.rps)} req/s (${CONNECTIONS} conns), ${Math.round(single.rps)} req/s (1 conn)\n`,
      );
    }
  }
  return scenarios.map((scenario) => {
    const single = latency.get(scenario.name) ?? [];
    const many = throughput.get(scenario.name) ?? [];
    return {
      name: scenario.name,
      description: scenario.description,
      cacheStatus: statuses.get(scenario.name) ?? "",
      latency: combine(single),
      throughput: combine(many),
      rounds: many.map((run, index) => ({
        rps: run.rps,
        p50Ms: combine(single.slice(index, index + 1)).p50Ms,
      })),
    };
  });
}

/** The three sidecar scenarios of one build (this checkout's, or the baseline's under `label`). */
async function sidecarScenarios(
  build: string,
  upstreamUrl: string,
  redis: RedisServer,
  label = "sidecar",
): Promise<Scenario[]> {
  const [tiered, redisOnly] = await Promise.all([
    spawnChild<{ url: string }>("bench-sidecar-child.ts", [upstreamUrl, redis.url, "1s", build]),
    spawnChild<{ url: string }>("bench-sidecar-child.ts", [upstreamUrl, redis.url, "0s", build]),
  ]);
  const scenarios = [
    {
      name: `${label} L1 hit`,
      description: "through the sidecar with Redis and `maxEntryAge: 1s`: served from the in-process tier.",
      url: `${tiered.url}/items/1`,
    },
    {
      name: `${label} Redis hit`,
      description:
        "through the sidecar with `maxEntryAge: 0s`: every hit read from Redis (the entry and its tags' generations in one round trip, ADR 0008).",
      url: `${redisOnly.url}/items/1`,
    },
    {
      name: `${label} miss`,
      description:
        "through the sidecar (L1 + Redis) on a route whose upstream answers `no-store`: lookup in L1 and Redis, the fill's fence (one more Redis round trip, ADR 0005), forward, not stored.",
      url: `${tiered.url}/live/1`,
    },
  ];
  if (label === "sidecar") return scenarios;
  return scenarios.map((scenario) => ({
    ...scenario,
    description: `"${scenario.name.replace(label, "sidecar")}" on the \`--baseline\` checkout, its own Redis.`,
  }));
}

/** Each baseline scenario right after its counterpart, so both meet the same load from outside. */
function interleave(current: readonly Scenario[], baseline: readonly Scenario[]): Scenario[] {
  return current.flatMap((scenario, index) => {
    const other = baseline[index];
    return other === undefined ? [scenario] : [scenario, other];
  });
}

async function startServers(redis: RedisServer, baselineRedis?: RedisServer): Promise<Scenario[]> {
  const body = String(BODY_BYTES);
  const [floor, upstream] = await Promise.all([
    spawnChild<{ port: number }>("bench-origin.ts", ["floor", body]),
    spawnChild<{ port: number }>("bench-origin.ts", ["upstream", body]),
  ]);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const current = await sidecarScenarios(buildSidecar(REPO), upstreamUrl, redis);
  const baseline =
    BASELINE === undefined || baselineRedis === undefined
      ? []
      : await sidecarScenarios(buildSidecar(BASELINE), upstreamUrl, baselineRedis, "baseline");
  return [
    {
      name: "floor",
      description:
        "bare `node:http` server answering a precomputed buffer: the fastest a Node server answers.",
      url: `http://127.0.0.1:${floor.port}/items/1`,
    },
    {
      name: "upstream direct",
      description: "the fronted app, called directly (builds the same bytes per request).",
      url: `${upstreamUrl}/items/1`,
    },
    ...interleave(current, baseline),
  ];
}

async function writeResults(section: string): Promise<void> {
  const existing = await readFile(RESULTS, "utf8").catch(() => "");
  await writeFile(RESULTS, replaceSection(existing, section));
  console.log(`\nwrote the "Sidecar micro-benchmark" section of ${RESULTS}`);
}

async function main(): Promise<void> {
  const redis = await startRedis();
  // The baseline gets its own Redis: its entries and this build's would share keys otherwise.
  const baselineRedis = BASELINE === undefined ? undefined : await startRedis();
  const cleanup = async () => {
    await stopChildren();
    await redis.stop();
    await baselineRedis?.stop();
  };
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  try {
    const scenarios = await startServers(redis, baselineRedis);
    const loadBefore = loadavg()[0] ?? 0;
    const results = await measureAll(scenarios);
    const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
    const run: BenchRun = {
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      machine:
        `${availableParallelism()} CPUs (nproc; ${cpu}), Node ${process.version}, ${process.platform}/${process.arch}, ` +
        `redis-server on loopback; 1-min load average ${loadBefore.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end`,
      command: `make bench-sidecar (npx tsx --conditions=source sidecar/bench/sidecar-bench.ts --duration ${DURATION} --rounds ${ROUNDS} --connections ${CONNECTIONS} --body-bytes ${BODY_BYTES}${BASELINE === undefined ? "" : ` --baseline ${relative(REPO, BASELINE)}`})`,
      connections: CONNECTIONS,
      durationSeconds: DURATION,
      rounds: ROUNDS,
      bodyBytes: BODY_BYTES,
      results,
    };
    console.log(`\n${formatTable(run)}\n\n${formatTargets(checkTargets(results))}`);
    const comparison = compareWithBaseline(results);
    if (comparison.length > 0) console.log(`\n${formatComparison(comparison)}`);
    if (!args["no-write"]) await writeResults(formatSection(run));
  } finally {
    await cleanup();
  }
}

await main();
