import { overrides, type Parsed, readFlags, type ScenarioOverrides } from "./config.js";

/**
 * Flags of the in-cluster load Job (job-main.ts, load-tests/cluster/bench-job.yaml), parsed once: the
 * two targets it compares and the scenarios it runs against both.
 */
export interface JobConfig {
  /** The demo API without the sidecar (the demo-api-direct Service, the API container's port). */
  readonly directUrl: string;
  /** The demo API's own Service, whose named port is the injected sidecar's. */
  readonly sidecarUrl: string;
  readonly scenarios: readonly string[];
  /** Idempotent updates sent through each path before a phase with writes (run-scenario.ts). */
  readonly primeWrites: number;
  readonly overrides: ScenarioOverrides;
}

export const JOB_USAGE = `Usage: job-main --direct URL --sidecar URL [--scenarios read-only,mixed] [options]

Runs each scenario against the demo API directly, then through its sidecar, at the same arrival rate
with the same request stream, and prints the before/after table: markdown, then one line
"APICACHE_BENCH_REPORT {json}" that \`make bench-cluster\` and the cluster tier read.

  --direct URL        the demo API without the sidecar (e.g. http://demo-api-direct.apicache-demo.svc.cluster.local)
  --sidecar URL       the demo API through its injected sidecar (e.g. http://demo-api.apicache-demo.svc.cluster.local)
  --scenarios LIST    scenario names from load-tests/scenarios (default read-only,mixed)
  --duration S        override each scenario's measured duration (seconds)
  --warmup S          override each scenario's warm-up (seconds)
  --rate R            override each scenario's arrival rate (requests/second)
  --prime-writes N    idempotent updates through each path before a phase with writes (default 100)
`;

function url(text: unknown, flag: string, problems: string[]): string {
  if (typeof text !== "string" || text === "") {
    problems.push(`${flag} is required`);
    return "";
  }
  try {
    const parsed = new URL(text);
    if (parsed.protocol !== "http:") problems.push(`${flag} must be an http:// URL (got ${text})`);
  } catch {
    problems.push(`${flag} must be a URL (got ${JSON.stringify(text)})`);
  }
  return text;
}

export function parseJobConfig(argv: readonly string[]): Parsed<JobConfig> {
  const flags = readFlags(argv, {
    direct: { type: "string" },
    sidecar: { type: "string" },
    scenarios: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    rate: { type: "string" },
    "prime-writes": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (!flags.ok) return flags;
  const { values } = flags;
  const problems: string[] = [];
  const primeText = (values["prime-writes"] as string | undefined) ?? "100";
  const primeWrites = Number(primeText);
  if (!Number.isInteger(primeWrites) || primeWrites < 0)
    problems.push(`--prime-writes must be a whole number >= 0 (got ${JSON.stringify(primeText)})`);
  const scenarios = ((values.scenarios as string | undefined) ?? "read-only,mixed")
    .split(",")
    .filter(Boolean);
  if (scenarios.length === 0) problems.push("--scenarios names no scenario");
  const config: JobConfig = {
    directUrl: url(values.direct, "--direct", problems),
    sidecarUrl: url(values.sidecar, "--sidecar", problems),
    scenarios,
    primeWrites,
    overrides: overrides(values, problems),
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}
