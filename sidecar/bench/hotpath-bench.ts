/**
 * The L1-hit hot path (`make bench-hotpath`, issue #16, ADR 0027): a benchmark, not a test.
 *
 *  1. Side by side, same load tool (autocannon, in this process), each server in its own process:
 *     the bare `node:http` floor answering a precomputed buffer, and the sidecar answering the same
 *     body from its in-process tier (L1 hit); with `--baseline DIR`, an older checkout's sidecar too.
 *     Rounds alternate the order; the table gives each one's median req/s and its median per-round
 *     ratio to the floor. Then the same targets at one fixed rate (`--cpu-rate`, for `--cpu-seconds`
 *     each round): each process's CPU time per request, from /proc, which the load tool's share of
 *     the cores does not move.
 *  2. Then the floor and the sidecar again, in new processes started with `--cpu-prof`, each under the
 *     same L1-hit load for `--profile-seconds`; their .cpuprofile files (load-tests/profiles/raw/,
 *     not committed) become flame graphs (load-tests/profiles/*.svg) and top self-time tables.
 *
 * Writes load-tests/profiles/hotpath.md (unless --no-write) and prints it.
 *
 *   npx tsx --conditions=source sidecar/bench/hotpath-bench.ts [--duration 4] [--rounds 4]
 *       [--connections 16] [--body-bytes 2048] [--profile-seconds 8] [--cpu-rate 10000]
 *       [--cpu-seconds 6] [--no-profile] [--no-write] [--baseline DIR]
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { cpuSeconds } from "@apicache/load-tests/harness/proc-cpu";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { buildSidecar, REPO, spawnChild, stopChildren } from "./bench-children.js";
import { load, probe } from "./bench-load.js";
import { flameSvg } from "./hotpath-flame.js";
import { type CpuProfile, foldStacks, formatFolded, selfByArea, topSelf } from "./hotpath-profile.js";
import { type CpuRound, formatHotpath, type HotpathRound, type ProfileSummary } from "./hotpath-report.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "4" },
    rounds: { type: "string", default: "4" },
    connections: { type: "string", default: "16" },
    "body-bytes": { type: "string", default: "2048" },
    "profile-seconds": { type: "string", default: "8" },
    "cpu-rate": { type: "string", default: "10000" },
    "cpu-seconds": { type: "string", default: "6" },
    "no-profile": { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
    baseline: { type: "string" },
  },
});
const DURATION = Math.max(1, Math.min(30, Number(args.duration)));
/** 0: profile only, no side-by-side rounds. */
const ROUNDS = Math.max(0, Math.min(10, Number(args.rounds)));
const CONNECTIONS = Math.max(1, Math.min(256, Number(args.connections)));
const BODY = String(Math.max(16, Math.min(1 << 20, Number(args["body-bytes"]))));
const PROFILE_SECONDS = Math.max(2, Math.min(30, Number(args["profile-seconds"])));
/** The fixed rate of the CPU-per-request rounds: below what either server answers on this machine. */
const CPU_RATE = Math.max(100, Math.min(100_000, Number(args["cpu-rate"])));
const CPU_SECONDS = Math.max(2, Math.min(60, Number(args["cpu-seconds"])));
const BASELINE = args.baseline === undefined ? undefined : resolve(args.baseline);
const INTERVAL_US = 250;
const PROFILES = join(REPO, "load-tests", "profiles");
const RAW = join(PROFILES, "raw");

/** The monotonic clock in microseconds: the one a .cpuprofile's timestamps use (Linux). */
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

interface Target {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
}

async function startFloor(nodeFlags: readonly string[] = []): Promise<Target> {
  const floor = await spawnChild<{ port: number }>("bench-origin.ts", ["floor", BODY], { nodeFlags });
  return { name: "floor", url: `http://127.0.0.1:${floor.port}/items/1`, pid: floor.pid };
}

/** A sidecar serving L1 hits: its target's name, its build, the upstream and the Redis it uses. */
interface L1Sidecar {
  readonly name: string;
  readonly build: string;
  readonly upstream: string;
  readonly redis: RedisServer;
}

async function startL1(sidecar: L1Sidecar, nodeFlags: readonly string[] = []): Promise<Target> {
  const { name, build, upstream, redis } = sidecar;
  const child = await spawnChild<{ url: string }>(
    "bench-sidecar-child.ts",
    [upstream, redis.url, "1s", build],
    {
      nodeFlags,
    },
  );
  return { name, url: `${child.url}/items/1`, pid: child.pid };
}

async function startUpstream(): Promise<string> {
  const upstream = await spawnChild<{ port: number }>("bench-origin.ts", ["upstream", BODY]);
  return `http://127.0.0.1:${upstream.port}`;
}

/** The targets in the order of round `round`: alternating, so a burst of outside load lands on each. */
function inRoundOrder(targets: readonly Target[], round: number): readonly Target[] {
  return round % 2 === 0 ? targets : [...targets].reverse();
}

async function measure(targets: readonly Target[]): Promise<{
  rounds: HotpathRound[];
  cacheStatus: Record<string, string>;
  failures: Record<string, number>;
}> {
  const cacheStatus: Record<string, string> = {};
  const failures: Record<string, number> = {};
  for (const target of targets) {
    cacheStatus[target.name] = await probe(target.url);
    await load({ url: target.url, connections: CONNECTIONS, durationSeconds: 1 });
  }
  const rounds: HotpathRound[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = inRoundOrder(targets, round);
    const rps: Record<string, number> = {};
    for (const target of order) {
      const run = await load({ url: target.url, connections: CONNECTIONS, durationSeconds: DURATION });
      rps[target.name] = run.rps;
      failures[target.name] = (failures[target.name] ?? 0) + run.failures;
    }
    console.log(
      `>> round ${round + 1}/${ROUNDS}: ${targets.map((t) => `${t.name} ${Math.round(rps[t.name] ?? 0)} req/s`).join(", ")}`,
    );
    rounds.push({ rps });
  }
  return { rounds, cacheStatus, failures };
}

/**
 * Each target under the same fixed request rate, in alternating order per round: the CPU time its
 * process used per request answered (the load tool's own CPU is not in it).
 */
async function cpuAtRate(targets: readonly Target[]): Promise<CpuRound[]> {
  const rounds: CpuRound[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = inRoundOrder(targets, round);
    const usPerRequest: Record<string, number> = {};
    const rps: Record<string, number> = {};
    for (const target of order) {
      const before = cpuSeconds(target.pid);
      const run = await load({
        url: target.url,
        connections: CONNECTIONS,
        durationSeconds: CPU_SECONDS,
        overallRate: CPU_RATE,
      });
      const after = cpuSeconds(target.pid);
      if (run.failures > 0)
        throw new Error(`${target.name}: ${run.failures} failed requests at ${CPU_RATE} req/s`);
      if (before === undefined || after === undefined)
        throw new Error(`${target.name}: no /proc/${target.pid}/stat`);
      usPerRequest[target.name] = ((after - before) * 1e6) / Math.max(1, run.requests);
      rps[target.name] = run.rps;
    }
    console.log(
      `>> at ${CPU_RATE} req/s, round ${round + 1}/${ROUNDS}: ${targets.map((t) => `${t.name} ${(usPerRequest[t.name] ?? 0).toFixed(1)} µs/request`).join(", ")}`,
    );
    rounds.push({ usPerRequest, rps });
  }
  return rounds;
}

/** Loads a `--cpu-prof` child, stops it (the profile is written at exit) and summarizes its profile. */
async function profileOne(
  name: string,
  start: (flags: readonly string[]) => Promise<Target>,
  file: string,
): Promise<ProfileSummary> {
  const dir = join(RAW, file);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const target = await start([
    "--cpu-prof",
    "--cpu-prof-dir",
    dir,
    "--cpu-prof-interval",
    String(INTERVAL_US),
  ]);
  await probe(target.url);
  await load({ url: target.url, connections: CONNECTIONS, durationSeconds: 1 });
  const fromUs = nowUs();
  const run = await load({ url: target.url, connections: CONNECTIONS, durationSeconds: PROFILE_SECONDS });
  const toUs = nowUs();
  await stopChildren();
  // One file per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>): the main thread's is thread 0.
  const profileFile = readdirSync(dir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (profileFile === undefined) throw new Error(`${name}: no main-thread .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, profileFile), "utf8")) as CpuProfile;
  // Only the samples taken under the measured load: not the start, the warm-up or the shutdown.
  const folded = foldStacks(profile, { window: { fromUs, toUs } });
  const svg = `${file}.svg`;
  writeFileSync(join(dir, `${file}.folded`), formatFolded(folded));
  if (!args["no-write"]) {
    writeFileSync(
      join(PROFILES, svg),
      flameSvg(folded, {
        title: `${name} under ${CONNECTIONS} connections (${Math.round(run.rps)} req/s while profiled)`,
        subtitle: `node --cpu-prof, ${PROFILE_SECONDS} s, 250 µs sampling; idle samples left out`,
      }),
    );
  }
  return {
    name,
    svg,
    seconds: PROFILE_SECONDS,
    rps: run.rps,
    busyUsPerRequest:
      ([...folded.values()].reduce((a, b) => a + b, 0) * INTERVAL_US) / Math.max(1, run.requests),
    top: topSelf(folded, 25),
    areas: selfByArea(folded),
  };
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const baselineRedis = BASELINE === undefined ? undefined : await startRedis();
  const cleanup = async () => {
    await stopChildren();
    await redis.stop();
    await baselineRedis?.stop();
  };
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  try {
    const build = buildSidecar(REPO);
    const baselineBuild = BASELINE === undefined ? undefined : buildSidecar(BASELINE);
    const loadBefore = loadavg()[0] ?? 0;
    const upstream = await startUpstream();
    const sidecar: L1Sidecar = { name: "sidecar L1 hit", build, upstream, redis };
    const baseline: L1Sidecar | undefined =
      baselineBuild !== undefined && baselineRedis !== undefined
        ? { name: "baseline L1 hit", build: baselineBuild, upstream, redis: baselineRedis }
        : undefined;
    const targets = [await startFloor(), await startL1(sidecar)];
    if (baseline !== undefined) targets.push(await startL1(baseline));
    const measured = ROUNDS > 0 ? await measure(targets) : { rounds: [], cacheStatus: {}, failures: {} };
    const cpuRounds = await cpuAtRate(targets);
    await stopChildren();
    const profiles: ProfileSummary[] = [];
    if (!args["no-profile"]) {
      profiles.push(await profileOne("floor", (flags) => startFloor(flags), "floor"));
      const profiledUpstream = await startUpstream();
      profiles.push(
        await profileOne(
          "sidecar L1 hit",
          (flags) => startL1({ ...sidecar, upstream: profiledUpstream }, flags),
          "l1-hit",
        ),
      );
      if (baseline !== undefined) {
        const baselineUpstream = await startUpstream();
        profiles.push(
          await profileOne(
            "baseline L1 hit",
            (flags) => startL1({ ...baseline, upstream: baselineUpstream }, flags),
            "l1-hit-baseline",
          ),
        );
      }
    }
    const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
    const report = formatHotpath({
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      machine:
        `${availableParallelism()} CPUs (nproc; ${cpu}), Node ${process.version}, ${process.platform}/${process.arch}; ` +
        `1-min load average ${loadBefore.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end`,
      command:
        `make bench-hotpath (npx tsx --conditions=source sidecar/bench/hotpath-bench.ts --duration ${DURATION} --rounds ${ROUNDS} ` +
        `--connections ${CONNECTIONS} --body-bytes ${BODY} --profile-seconds ${PROFILE_SECONDS} --cpu-rate ${CPU_RATE} --cpu-seconds ${CPU_SECONDS}` +
        `${BASELINE === undefined ? "" : ` --baseline ${relative(REPO, BASELINE)}`})`,
      scenarios: targets.map((t) => t.name),
      ...measured,
      cpuRate: CPU_RATE,
      cpuRounds,
      profiles,
    });
    console.log(`\n${report}`);
    if (!args["no-write"]) {
      writeFileSync(join(PROFILES, "hotpath.md"), report);
      console.log(`wrote ${relative(REPO, join(PROFILES, "hotpath.md"))}`);
    }
  } finally {
    await cleanup();
  }
}

await main();
