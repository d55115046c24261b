import { SIZE_NAMES } from "../demo-api/sizes.js";
import type { CapacityTargets } from "../thresholds.js";
import { type Parsed, readFlags } from "./config.js";

/** Flags of `make bench-capacity` (capacity-main.ts), parsed once; defaults from thresholds.json. */
export interface CapacityConfig {
  readonly scenarios: readonly string[];
  readonly size: string;
  readonly store: "redis" | "memory";
  readonly policyFile: string;
  readonly resultsFile?: string;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  readonly equalWindowSeconds: number;
  readonly maxRate: number;
  readonly quick: boolean;
}

export const CAPACITY_USAGE = `Usage: bench-capacity [--scenarios mixed] [--size default] [--quick] [options]

For each path (the demo API directly, through the sidecar) finds the highest open-model arrival rate
held for a window with p95 within the scenario's SLO and no failed response (a ladder of rates, then
bisection; SLO and ladder in load-tests/thresholds.json "capacity"). Then measures both paths at an
equal load (a share of the direct capacity): per endpoint type before/after, and the demo API's SQL
statements. Prints the tables and records them in load-tests/results.md.

  --scenarios LIST   scenario names with a capacity SLO (default mixed)
  --size NAME        dataset size: ${SIZE_NAMES.join(", ")} (default default)
  --store KIND       redis (default) or memory
  --window S         seconds judged per probe (default from thresholds.json)
  --warmup S         unjudged seconds before each probe's window (default from thresholds.json)
  --equal-window S   seconds of the equal-load run on each path, at least (default 60; longer
                     when that gives fewer than 100 requests, up to 180)
  --max-rate R       the top of the sidecar's ladder (default from thresholds.json)
  --quick            short windows for development (10 s, 2 s warm-up, 20 s equal load)
  --results FILE     where to write the results section (default load-tests/results.md)
  --no-results       do not write the results file
  --policy FILE      CachePolicy for the sidecar (default load-tests/policies/demo.yaml)
`;

const seconds = (text: unknown, flag: string, problems: string[]): number | undefined => {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    problems.push(`${flag} must be a positive number (got ${JSON.stringify(text)})`);
  return value;
};

export function parseCapacityConfig(
  argv: readonly string[],
  defaults: { policyFile: string; resultsFile: string; targets: CapacityTargets },
): Parsed<CapacityConfig> {
  const flags = readFlags(argv, {
    scenarios: { type: "string" },
    size: { type: "string" },
    store: { type: "string" },
    window: { type: "string" },
    warmup: { type: "string" },
    "equal-window": { type: "string" },
    "max-rate": { type: "string" },
    quick: { type: "boolean" },
    results: { type: "string" },
    "no-results": { type: "boolean" },
    policy: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (!flags.ok) return flags;
  const { values } = flags;
  const problems: string[] = [];
  const quick = values.quick === true;
  const { size, store, scenarios } = choices(values, defaults.targets, problems);
  const t = defaults.targets;
  const config: CapacityConfig = {
    scenarios,
    size,
    store,
    policyFile: (values.policy as string | undefined) ?? defaults.policyFile,
    ...(values["no-results"]
      ? {}
      : { resultsFile: (values.results as string | undefined) ?? defaults.resultsFile }),
    windowSeconds: seconds(values.window, "--window", problems) ?? (quick ? 10 : t.windowSeconds),
    warmupSeconds: seconds(values.warmup, "--warmup", problems) ?? (quick ? 2 : t.warmupSeconds),
    equalWindowSeconds: seconds(values["equal-window"], "--equal-window", problems) ?? (quick ? 20 : 60),
    maxRate: seconds(values["max-rate"], "--max-rate", problems) ?? t.maxRate,
    quick,
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

function choices(values: Record<string, unknown>, targets: CapacityTargets, problems: string[]) {
  const size = (values.size as string | undefined) ?? "default";
  if (!(SIZE_NAMES as readonly string[]).includes(size))
    problems.push(`--size must be one of ${SIZE_NAMES.join(", ")}`);
  const store = (values.store as string | undefined) ?? "redis";
  if (store !== "redis" && store !== "memory") problems.push("--store must be redis or memory");
  const scenarios = ((values.scenarios as string | undefined) ?? "mixed").split(",").filter(Boolean);
  for (const name of scenarios)
    if (targets.sloP95Ms[name] === undefined)
      problems.push(`scenario ${name} has no capacity SLO in load-tests/thresholds.json (capacity.sloP95Ms)`);
  return { size, store: store as CapacityConfig["store"], scenarios };
}

/**
 * The equal-load window at a rate: at least equalWindowSeconds and long enough for 100 requests (a
 * per-endpoint mean needs more than a handful), at most 3 minutes.
 */
export function equalLoadSeconds(equalWindowSeconds: number, rate: number): number {
  return Math.min(180, Math.max(equalWindowSeconds, Math.ceil(100 / rate)));
}
