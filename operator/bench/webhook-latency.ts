/**
 * The webhook server's own latency, without a cluster: starts it in this process (TLS on loopback,
 * one CachePolicy that selects the client's pods, so every review is patched) and runs
 * webhook-client.ts against it in a separate process, as the API server would be. Prints one line per
 * round: client-side p50/p90/p99/max in ms (each round: a warm-up run, then the measured run), then
 * what the collector did meanwhile and the longest the event loop was held up.
 * LIVE_MIB grows a live heap of that size first (live-heap.ts), as the operator's caches hold at scale
 * (about 100 MiB at 5,000 policies and 10,000 pods): the collector then has a realistic heap to mark.
 * Node flags such as `--max-old-space-size=230` go before the script (`node --conditions=source
 * --import tsx FLAGS operator/bench/webhook-latency.ts ...`); NODE_OPTIONS would reach the client too.
 * Usage: npx tsx --conditions=source operator/bench/webhook-latency.ts [REQUESTS=2000] [CONCURRENCY=50] [ROUNDS=3] [LIVE_MIB=0]
 * Run it under `flock /tmp/cluster-tier.lock` on a shared machine. A benchmark, not a test.
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { pino } from "pino";
import { issueCa, issueServing, validityOf } from "../src/certs/issue.js";
import { CertHolder } from "../src/certs/serving-certs.js";
import { createMetrics } from "../src/telemetry/metrics.js";
import { startWebhookServer } from "../src/webhook/webhook-server.js";
import { policy } from "../test/fixtures.js";
import { GcPauses, growLiveHeap } from "./live-heap.js";

const argument = (i: number, fallback: number) => Number(process.argv[2 + i] ?? fallback);
const [requests, concurrency, rounds, liveMiB] = [
  argument(0, 2000),
  argument(1, 50),
  argument(2, 3),
  argument(3, 0),
];
const here = dirname(fileURLToPath(import.meta.url));
const namespace = "shop";
const held = growLiveHeap(liveMiB);

const now = Date.now();
const authority = issueCa(now, 3_600_000);
const serving = issueServing(authority, ["localhost"], now, 3_600_000);
const certs = new CertHolder();
certs.set({ ...serving, notAfter: validityOf(serving.certPem).notAfter });
const match = { policy: policy({ name: "api-0", namespace }), configHash: "bench" };
const server = await startWebhookServer({
  host: "127.0.0.1",
  port: 0,
  certs,
  deps: () => ({
    findPolicy: (ns, labels) => (ns === namespace && labels?.app === "api-0" ? match : undefined),
    options: { image: "sidecar", version: "0", nativeSidecar: false },
  }),
  metrics: createMetrics(),
  log: pino({ level: "warn" }),
});

const client = join(here, "webhook-client.ts");
const tsx = join(here, "..", "..", "node_modules", ".bin", "tsx");
const gc = new GcPauses();
for (let round = 1; round <= rounds; round++) {
  gc.reset();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  // Asynchronously: the server answers on this process's event loop.
  const args = [client, String(server.port), namespace, String(requests), String(concurrency)];
  const line = (await promisify(execFile)(tsx, args, { encoding: "utf8" })).stdout.trim();
  loop.disable();
  const result = JSON.parse(line) as Record<string, number>;
  const ms = (key: string) => (result[key] ?? Number.NaN).toFixed(2);
  console.log(
    `round ${round}: ${result.count} reviews at ${concurrency} concurrent: p50 ${ms("p50")} ms, p90 ${ms("p90")} ms, p99 ${ms("p99")} ms, max ${ms("max")} ms`,
  );
  console.log(
    `  ${gc.summary()}; event loop held up at most ${(loop.max / 1e6).toFixed(1)} ms; ${held.length} objects held`,
  );
}
gc.stop();
await server.close();
