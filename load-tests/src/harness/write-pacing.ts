import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createSampler } from "../sampler.js";
import { parseScenarioText, type Scenario } from "../scenario.js";
import { createHttpClient, type HttpClient } from "./http-client.js";
import { REPO_ROOT, startDemoApiProcess, startRedis, startSidecarProcess } from "./stack.js";
import { percentile } from "./stats.js";

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
const text = readFileSync(join(REPO_ROOT, "load-tests/scenarios/mixed.json"), "utf8");
const parsed = parseScenarioText(text);
if (!parsed.ok) throw new Error(`mixed.json: ${parsed.problems.join("; ")}`);
const scenario: Scenario = {
  ...parsed.scenario,
  writeRatio: 1,
  writes: parsed.scenario.writes.filter((w) => !w.takes && !w.gives),
};

const api = await startDemoApiProcess({ size });
const redis = await startRedis();
const sidecar = await startSidecarProcess({
  policyFile: join(REPO_ROOT, "load-tests/policies/demo.yaml"),
  upstream: api.url,
  redisUrl: redis.url,
});
const clients = { direct: createHttpClient(api.url), sidecar: createHttpClient(sidecar.url) };
const sampler = createSampler(scenario, scenario.seed + 99);

async function pairs(count: number, pause: number): Promise<{ direct: number; sidecar: number }> {
  const times = { direct: [] as number[], sidecar: [] as number[] };
  for (let i = 0; i < count; i++) {
    for (const target of i % 2 === 0 ? (["direct", "sidecar"] as const) : (["sidecar", "direct"] as const)) {
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause)); // the pacing itself
      times[target].push(await send(clients[target]));
    }
  }
  return { direct: percentile(times.direct, 50), sidecar: percentile(times.sidecar, 50) };
}

async function send(client: HttpClient): Promise<number> {
  const request = sampler.next();
  const response = await client.send(request.method, request.path, {
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  if (response.status >= 400) throw new Error(`${request.method} ${request.path}: HTTP ${response.status}`);
  return response.latencyMs;
}

try {
  await pairs(400, 0); // warm-up: V8 optimizes both write paths
  console.log("| pacing | direct p50 | sidecar p50 | difference |\n|---|---:|---:|---:|");
  for (const pause of [0, pauseMs, 0, pauseMs]) {
    const p50 = await pairs(pause === 0 ? 100 : 40, pause);
    const label = pause === 0 ? "back to back" : `${pause} ms idle before each write`;
    console.log(
      `| ${label} | ${p50.direct.toFixed(2)} ms | ${p50.sidecar.toFixed(2)} ms | +${(p50.sidecar - p50.direct).toFixed(2)} ms |`,
    );
  }
} finally {
  clients.direct.close();
  clients.sidecar.close();
  await sidecar.stop();
  await redis.stop();
  await api.stop();
}
