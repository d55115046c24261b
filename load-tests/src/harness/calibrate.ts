import { loadavg } from "node:os";
import { dayFromAnchor } from "../sampler.js";
import { createHttpClient } from "./http-client.js";
import { describeMachine } from "./machine.js";
import { writeSection } from "./results-file.js";
import { REPO_ROOT, startDemoApiProcess } from "./stack.js";
import { percentile } from "./stats.js";
import { formatMs } from "./table.js";

// `make calibrate`: the demo API's uncached latency per endpoint type at a size (default "default"),
// one request at a time (no queueing), next to the booking platform's reported averages. Records the
// "## Demo API uncached latency" section of load-tests/results.md.
const size = process.argv[2] ?? "default";
const rounds = Number(process.argv[3] ?? 8);
const PLATFORM: Record<string, string> = {
  slots: "250 ms",
  analytics: "1.8 s",
  dashboard: "2.1 s",
  profile: "180 ms",
  catalog: "120 ms",
};
const probes: Record<string, (i: number) => { path: string; headers?: Record<string, string> }> = {
  slots: (i) => ({ path: `/api/v2/barbers/${1 + i}/slots?date=${dayFromAnchor(1 + (i % 3))}` }),
  analytics: (i) => ({ path: `/api/v2/analytics/${i % 2 === 0 ? "revenue" : "clients"}?range=30d` }),
  dashboard: (i) => ({
    path: "/api/v2/dashboard",
    headers: { authorization: `Bearer user-${1_000_001 + 10 * (i % 3)}` },
  }),
  profile: (i) => ({ path: `/api/v2/users/${1 + i}/profile` }),
  catalog: () => ({ path: "/api/v2/services" }),
};

const api = await startDemoApiProcess({ size });
const client = createHttpClient(api.url);
const loadBefore = loadavg()[0] ?? 0;
const rows: string[] = [];
try {
  for (const [endpoint, probe] of Object.entries(probes)) {
    await client.send("GET", probe(0).path, { headers: probe(0).headers ?? {} }); // warm the code path
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const { path, headers } = probe(i);
      const response = await client.send("GET", path, { headers: headers ?? {} });
      if (response.status !== 200)
        throw new Error(`${path}: HTTP ${response.status} ${response.body.slice(0, 200)}`);
      times.push(response.latencyMs);
    }
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    const row = `| ${endpoint} | ${formatMs(percentile(times, 50))} | ${formatMs(mean)} | ${formatMs(Math.min(...times))} | ${formatMs(Math.max(...times))} | ${PLATFORM[endpoint]} |`;
    rows.push(row);
    process.stderr.write(`${row}\n`);
  }
} finally {
  client.close();
  await api.stop();
}
const body = [
  `Produced by \`make calibrate\` (\`${size}\` dataset, ${rounds} requests per endpoint type, one at a time, different keys) on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC.`,
  `Machine: ${describeMachine()}; 1-minute load average ${loadBefore.toFixed(2)} before / ${(loadavg()[0] ?? 0).toFixed(2)} after.`,
  "The demo API does real SQL (PGlite, in process) over the generated dataset; no sleeps. The platform column is the booking platform's reported uncached average (ORIGIN).",
  "",
  "| endpoint | p50 | mean | min | max | platform (avg) |",
  "|---|---:|---:|---:|---:|---:|",
  ...rows,
].join("\n");
console.log(body);
writeSection(`${REPO_ROOT}load-tests/results.md`, "## Demo API uncached latency", body);
process.exit(0);
