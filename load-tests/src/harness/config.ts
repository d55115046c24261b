import { type ParseArgsConfig, parseArgs } from "node:util";
import { SIZE_NAMES } from "../demo-api/sizes.js";

/** Flags of `make bench` (harness/main.ts) and `make demo` (demo/main.ts), parsed once. */
export interface BenchConfig {
  readonly scenarios: readonly string[];
  readonly size: string;
  readonly store: "redis" | "memory";
  readonly policyFile: string;
  readonly resultsFile?: string;
  readonly overrides: ScenarioOverrides;
}

export interface ScenarioOverrides {
  readonly durationSeconds?: number;
  readonly warmupSeconds?: number;
  readonly arrivalRate?: number;
}

export interface DemoConfig {
  readonly size: string;
  readonly short: boolean;
  /** Stay up after the table (interactive default) so the URLs printed can be tried. */
  readonly keepRunning: boolean;
  readonly policyFile: string;
  readonly overrides: ScenarioOverrides;
}

export type Parsed<T> = { ok: true; config: T } | { ok: false; problems: string[]; help?: boolean };

const COMMON = {
  size: { type: "string" },
  policy: { type: "string" },
  duration: { type: "string" },
  warmup: { type: "string" },
  rate: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const BENCH_USAGE = `Usage: bench [--scenarios read-only,mixed] [--size default] [--store redis|memory] [options]

Runs each scenario directly against the demo API and through the sidecar, side by side, and prints
(and records in load-tests/results.md) the before/after table per endpoint.

  --scenarios LIST   scenario names from load-tests/scenarios (default read-only,mixed)
  --size NAME        dataset size: ${SIZE_NAMES.join(", ")} (default default)
  --store KIND       redis (a real redis-server, default) or memory (the sidecar's embedded store)
  --duration S       override each scenario's measured duration (seconds)
  --warmup S         override each scenario's warm-up (seconds)
  --rate R           override each scenario's arrival rate (requests/second)
  --results FILE     where to write the results section (default load-tests/results.md)
  --no-results       do not write the results file
  --policy FILE      CachePolicy for the sidecar (default load-tests/policies/demo.yaml)
`;

export const DEMO_USAGE = `Usage: demo [--short] [--size small] [--exit]

Starts the demo API and the sidecar (in-memory store), runs a short side-by-side load and prints the
improvement per endpoint type. Interactive runs stay up afterwards so you can try the URLs it prints.

  --short            a very short run (used by tests; also APICACHE_DEMO_SHORT=1); tiny dataset
  --size NAME        dataset size (default small; tiny with --short)
  --exit             exit after the table even on a terminal
  --duration S, --warmup S, --rate R, --policy FILE   as for bench
`;

function number(text: string | undefined, flag: string, problems: string[]): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    problems.push(`${flag} must be a positive number (got ${JSON.stringify(text)})`);
  return value;
}

/** --duration, --warmup and --rate, checked (positive numbers). */
export function overrides(values: Record<string, unknown>, problems: string[]): ScenarioOverrides {
  const durationSeconds = number(values.duration as string | undefined, "--duration", problems);
  const warmupSeconds = number(values.warmup as string | undefined, "--warmup", problems);
  const arrivalRate = number(values.rate as string | undefined, "--rate", problems);
  return {
    ...(durationSeconds ? { durationSeconds } : {}),
    ...(warmupSeconds ? { warmupSeconds } : {}),
    ...(arrivalRate ? { arrivalRate } : {}),
  };
}

function checkSize(size: string, problems: string[]): void {
  if (!(SIZE_NAMES as readonly string[]).includes(size))
    problems.push(`--size must be one of ${SIZE_NAMES.join(", ")}`);
}

/**
 * The flags `argv` sets (strict: an unknown flag is a problem), or why there are none: a parse error,
 * or --help. Every harness command (bench, demo, bench-capacity) reads its flags through it.
 */
export function readFlags(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): { ok: true; values: Record<string, unknown> } | Extract<Parsed<never>, { ok: false }> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], strict: true, options }).values;
  } catch (error) {
    return { ok: false, problems: [(error as Error).message] };
  }
  return values.help ? { ok: false, problems: [], help: true } : { ok: true, values };
}

export function parseBenchConfig(
  argv: readonly string[],
  defaults: { policyFile: string; resultsFile: string },
): Parsed<BenchConfig> {
  const flags = readFlags(argv, {
    ...COMMON,
    scenarios: { type: "string" },
    store: { type: "string" },
    results: { type: "string" },
    "no-results": { type: "boolean" },
  });
  if (!flags.ok) return flags;
  const { values } = flags;
  const problems: string[] = [];
  const size = (values.size as string | undefined) ?? "default";
  checkSize(size, problems);
  const store = (values.store as string | undefined) ?? "redis";
  if (store !== "redis" && store !== "memory") problems.push("--store must be redis or memory");
  const scenarios = ((values.scenarios as string | undefined) ?? "read-only,mixed")
    .split(",")
    .filter(Boolean);
  const config: BenchConfig = {
    scenarios,
    size,
    store: store as BenchConfig["store"],
    policyFile: (values.policy as string | undefined) ?? defaults.policyFile,
    ...(values["no-results"]
      ? {}
      : { resultsFile: (values.results as string | undefined) ?? defaults.resultsFile }),
    overrides: overrides(values, problems),
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

export function parseDemoConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaults: { policyFile: string; interactive: boolean },
): Parsed<DemoConfig> {
  const flags = readFlags(argv, { ...COMMON, short: { type: "boolean" }, exit: { type: "boolean" } });
  if (!flags.ok) return flags;
  const { values } = flags;
  const problems: string[] = [];
  const short =
    values.short === true || env.APICACHE_DEMO_SHORT === "1" || env.APICACHE_DEMO_SHORT === "true";
  const size = (values.size as string | undefined) ?? env.APICACHE_DEMO_SIZE ?? (short ? "tiny" : "small");
  checkSize(size, problems);
  const config: DemoConfig = {
    size,
    short,
    keepRunning: defaults.interactive && !short && values.exit !== true,
    policyFile: (values.policy as string | undefined) ?? defaults.policyFile,
    overrides: { ...(short ? { durationSeconds: 6, warmupSeconds: 1 } : {}), ...overrides(values, problems) },
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}
