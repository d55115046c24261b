/**
 * Write-path micro-benchmark (`make bench-write-path`): a benchmark, not a test. One write at a time,
 * nothing else running, alternating direct (client → upstream) and through the sidecar (client →
 * sidecar + L1 + Redis → upstream). Every write matches an invalidate rule with 3 tags plus the
 * RFC 9111 target-URI invalidation; before each write a few hundred entries are re-filled under those
 * tags (straight into Redis, in apicache's layout) so the deletes have work to do.
 *
 * Prints p50/p95 direct vs sidecar and the delta, and the Redis round trips (socket reads Redis
 * processed, `INFO stats` total_reads_processed) and commands (`INFO commandstats`) per write.
 *
 *   npx tsx --conditions=source sidecar/bench/write-path-bench.ts [--writes 400] [--entries 300]
 *
 * The sidecar runs in a child process (this file with --child), as in a pod; the upstream and the
 * client share this process.
 */
import { type ChildProcess, fork } from "node:child_process";
import { Agent, createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type RedisServer, startRedis } from "@apicache/testkit/redis";
import { Redis } from "ioredis";
import pino from "pino";
import { pathTag } from "../src/keys/cache-key.js";
import { encodeValue, entryKey, tagKey } from "../src/store/redis-layout.js";

const HERE = fileURLToPath(import.meta.url);
const PREFIX = "bench/write-path";
const TAGS = ["slots", "analytics", "dashboard"];

const { values: args } = parseArgs({
  options: {
    writes: { type: "string", default: "400" },
    entries: { type: "string", default: "300" },
    child: { type: "boolean", default: false },
    upstream: { type: "string", default: "" },
    redis: { type: "string", default: "" },
    "memory-only": { type: "boolean", default: false },
  },
});

const policy = `
apiVersion: apicache.io/v1alpha1
kind: CachePolicy
metadata: { name: bench-writes, namespace: bench }
spec:
  selector: { matchLabels: { app: bench } }
  upstream: { port: 8080 }
  store:
    redis:
      urlSecretRef: { name: bench-redis, key: url }
      keyPrefix: ${PREFIX}
      commandTimeout: 50ms
    memory: { maxBytes: 64Mi, maxEntryAge: 1s }
  routes:
    - name: slots
      path: /api/slots/:id
      ttl: 5m
      tags: [slots, analytics]
  invalidate:
    - name: appointment-written
      methods: [POST, PUT, DELETE]
      path: /api/appointments/**
      tags: [${TAGS.join(", ")}]
`;

async function child(): Promise<void> {
  const { startSidecar } = await import("../src/index.js");
  const sidecar = await startSidecar({
    policy,
    policyOrigin: "write-path-bench",
    upstream: args.upstream,
    ...(args.redis === "" ? {} : { redisUrl: args.redis }),
    admin: false,
    warm: false,
    logger: pino({ level: "warn" }),
  });
  process.send?.({ url: sidecar.url });
  process.on("disconnect", () => {
    void sidecar.close({ drainMs: 500 }).finally(() => process.exit(0));
  });
}

function startUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(req.method === "DELETE" ? 200 : 201, { "content-type": "application/json" });
      res.end('{"ok":true}');
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function spawnSidecar(upstream: string, redis: string): Promise<{ child: ChildProcess; url: string }> {
  const sidecar = fork(HERE, ["--child", "--upstream", upstream, "--redis", redis], {
    execArgv: ["--conditions=source", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("sidecar did not start within 30 s")), 30_000);
    sidecar.once("message", (message) => {
      clearTimeout(timer);
      resolve({ child: sidecar, url: (message as { url: string }).url });
    });
    sidecar.once("exit", (code) => reject(new Error(`sidecar exited with ${code}`)));
  });
}

const agents = new Map<string, Agent>();

/** One write; resolves with the time to the complete response, in ms. */
function write(base: string, method: string, path: string): Promise<number> {
  let pooled = agents.get(base);
  if (pooled === undefined) {
    pooled = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.set(base, pooled);
  }
  const body = method === "DELETE" ? "" : '{"barber":1,"at":"2025-01-01T10:00"}';
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method,
      agent: pooled,
      headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {},
    });
    req.on("response", (res) => {
      if (res.statusCode === undefined || res.statusCode >= 300)
        reject(new Error(`status ${res.statusCode}`));
      res.resume();
      res.on("end", () => resolve(performance.now() - started));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Puts `entries` entries into Redis under the invalidate rule's tags and the target URI's path tag. */
async function refill(redis: Redis, entries: number, path: string): Promise<void> {
  const pipeline = redis.pipeline();
  const now = Date.now();
  const expiry = now + 300_000;
  const tags = [...TAGS, pathTag(path)];
  for (let i = 0; i < entries; i++) {
    const tag = tags[i % tags.length] as string;
    const key = `GET|bench|/api/slots/${i}|${tag}`;
    const fields = { tags: [tag], generations: ["bench"], writtenAt: now, expiresAt: expiry };
    pipeline.set(entryKey(PREFIX, key), encodeValue(Buffer.from("{}"), fields), "PX", 300_000);
    pipeline.zadd(tagKey(PREFIX, tag), expiry, key);
  }
  await pipeline.exec();
}

async function readsProcessed(redis: Redis): Promise<number> {
  const info = await redis.info("stats");
  return Number(/total_reads_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

async function commandCounts(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/g)) {
    counts.set(match[1] as string, Number(match[2]));
    counts.set(`${match[1]}_usec`, Number(match[3]));
  }
  return counts;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const METHODS = ["POST", "PUT", "DELETE"];

async function profile(redis: Redis, sidecarUrl: string, entries: number): Promise<void> {
  const samples = 20;
  let trips = 0;
  await refill(redis, entries, "/api/appointments/p");
  const before = await commandCounts(redis);
  for (let i = 0; i < samples; i++) {
    await refill(redis, entries, "/api/appointments/p");
    const start = await readsProcessed(redis);
    await write(sidecarUrl, "PUT", "/api/appointments/p");
    trips += (await readsProcessed(redis)) - start - 1; // minus the second INFO itself
  }
  const after = await commandCounts(redis);
  const perWrite = [...after]
    .map(([name, calls]) => [name, (calls - (before.get(name) ?? 0)) / samples] as const)
    .filter(([name, calls]) => calls > 0 && !/^(set|zadd|info)(_usec)?$/.test(name))
    .map(([name, calls]) => `${name}=${calls.toFixed(1)}`);
  console.log(`Redis round trips per write (sidecar): ${(trips / samples).toFixed(2)}`);
  console.log(`Redis commands per write (sidecar): ${perWrite.join(" ")}`);
}

async function main(): Promise<void> {
  const writes = Math.max(20, Math.min(5_000, Number(args.writes)));
  const entries = Math.max(0, Math.min(5_000, Number(args.entries)));
  let server: RedisServer | undefined;
  let upstream: Server | undefined;
  let sidecar: ChildProcess | undefined;
  const redis = { client: undefined as Redis | undefined };
  try {
    server = await startRedis();
    upstream = await startUpstream();
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const spawned = await spawnSidecar(upstreamUrl, args["memory-only"] ? "" : server.url);
    sidecar = spawned.child;
    redis.client = new Redis({ host: server.host, port: server.port, lazyConnect: false });
    // Warm up both paths (JIT, keep-alive connections, Redis scripts).
    for (let i = 0; i < 50; i++) {
      await refill(redis.client, entries, `/api/appointments/w${i}`);
      await write(upstreamUrl, "POST", `/api/appointments/w${i}`);
      await write(spawned.url, "POST", `/api/appointments/w${i}`);
    }
    const direct: number[] = [];
    const through: number[] = [];
    for (let i = 0; i < writes; i++) {
      const method = METHODS[i % METHODS.length] as string;
      const path = `/api/appointments/${i % 50}`;
      await refill(redis.client, entries, path);
      if (i % 2 === 0) direct.push(await write(upstreamUrl, method, path));
      else through.push(await write(spawned.url, method, path));
    }
    report(direct, through, writes, entries);
    await profile(redis.client, spawned.url, entries);
  } finally {
    redis.client?.disconnect();
    for (const pooled of agents.values()) pooled.destroy();
    if (sidecar?.connected) sidecar.disconnect();
    await new Promise<void>((resolve) =>
      sidecar && sidecar.exitCode === null ? sidecar.once("exit", () => resolve()) : resolve(),
    );
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
    await server?.stop();
  }
}

function report(direct: number[], through: number[], writes: number, entries: number): void {
  direct.sort((a, b) => a - b);
  through.sort((a, b) => a - b);
  const row = (name: string, values: readonly number[]) =>
    `| ${name.padEnd(18)} | ${percentile(values, 50).toFixed(2).padStart(6)} | ${percentile(values, 95).toFixed(2).padStart(6)} |`;
  const delta50 = percentile(through, 50) - percentile(direct, 50);
  const delta95 = percentile(through, 95) - percentile(direct, 95);
  console.log(
    `${writes} writes one at a time (${entries} entries re-filled under 3 tags + target URI before each)`,
  );
  console.log("| path               | p50 ms | p95 ms |");
  console.log("|--------------------|--------|--------|");
  console.log(row("direct", direct));
  console.log(row("sidecar (L1+Redis)", through));
  console.log(
    `| delta              | ${delta50.toFixed(2).padStart(6)} | ${delta95.toFixed(2).padStart(6)} |`,
  );
}

if (args.child) await child();
else await main();
