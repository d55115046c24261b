import { readFileSync } from "node:fs";
import { join } from "node:path";
import { independentWriteSampler } from "../sampler.js";
import { parseScenarioText } from "../scenario.js";
import { createHttpClient } from "./http-client.js";
import { REPO_ROOT, startDemoApiProcess, startRedis, startSidecarProcess } from "./stack.js";
import { alternatingPairs } from "./write-overhead.js";

/**
 * `make bench-write-pacing`: a benchmark behind ADR 0006, not a test. Writes of the mixed scenario one
 * at a time, alternating direct and through the sidecar (demo API, real Redis), first back to back,
 * then with an idle pause before each write, and prints the p50s and their difference per pacing: the
 * difference grows when processes sleep between requests (each hop wakes one).
 *
 *   node --conditions=source --import tsx load-tests/src/harness/write-pacing.ts [size] [pauseMs]
 */
const size = process.argv[2] ?? "small";
const pauseMs = Number(process.argv[3] ?? 400);
const parsed = parseScenarioText(readFileSync(join(REPO_ROOT, "load-tests/scenarios/mixed.json"), "utf8"));
if (!parsed.ok) throw new Error(`mixed.json: ${parsed.problems.join("; ")}`);
const sampler = independentWriteSampler(parsed.scenario, parsed.scenario.seed + 99);
if (sampler === undefined) throw new Error("mixed.json has no write that can be sent alone");

const api = await startDemoApiProcess({ size });
const redis = await startRedis();
const sidecar = await startSidecarProcess({
  policyFile: join(REPO_ROOT, "load-tests/policies/demo.yaml"),
  upstream: api.url,
  redisUrl: redis.url,
});
const clients = { direct: createHttpClient(api.url), sidecar: createHttpClient(sidecar.url) };
const failures = { count: 0 };

try {
  await alternatingPairs(clients, sampler, 400, { failures }); // warm-up: V8 optimizes both write paths
  console.log("| pacing | direct p50 | sidecar p50 | difference |\n|---|---:|---:|---:|");
  for (const pause of [0, pauseMs, 0, pauseMs]) {
    const p50 = await alternatingPairs(clients, sampler, pause === 0 ? 100 : 40, {
      pauseMs: pause,
      failures,
    });
    const label = pause === 0 ? "back to back" : `${pause} ms idle before each write`;
    console.log(
      `| ${label} | ${p50.directP50.toFixed(2)} ms | ${p50.sidecarP50.toFixed(2)} ms | +${(p50.sidecarP50 - p50.directP50).toFixed(2)} ms |`,
    );
  }
  if (failures.count > 0) throw new Error(`${failures.count} writes failed`);
} finally {
  clients.direct.close();
  clients.sidecar.close();
  await sidecar.stop();
  await redis.stop();
  await api.stop();
}
