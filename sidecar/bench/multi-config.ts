/** Flags of `make bench-multi` (multi-bench.ts), parsed once with every problem listed. Pure. */
import { parseArgs } from "node:util";
import { SIZE_NAMES } from "@apicache/load-tests/demo-api/sizes";

export const PARTS = ["hits", "propagation", "hit-ratio"] as const;
export type Part = (typeof PARTS)[number];

export interface MultiConfig {
  readonly parts: readonly Part[];
  readonly replicas: number;
  /** Part 1: seconds per throughput run (and per latency run, split over the replicas), rounds, connections. */
  readonly durationSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly bodyBytes: number;
  /** Part 2: writes (each gives one sample per other replica). */
  readonly writes: number;
  /** Part 3: the mixed scenario's arrival rate, measured and warm-up seconds, the dataset size. */
  readonly rate: number;
  readonly mixedSeconds: number;
  readonly mixedWarmupSeconds: number;
  readonly size: string;
  readonly write: boolean;
}

export const MULTI_USAGE = `Usage: multi-bench [options]

Three sidecars on one Redis: L1 vs Redis hits, invalidation propagation to the other replicas' L1,
and the demo's mixed-scenario hit ratio with 3 replicas vs 1. Prints the tables and writes the
"Many replicas (make bench-multi)" section of load-tests/results.md.

  --parts LIST          hits,propagation,hit-ratio (default: all three)
  --replicas N          replicas (default 3, at least 2)
  --duration S          hits: seconds per run (default 1.5)
  --rounds N            hits: interleaved rounds (default 3)
  --connections N       hits: connections of the throughput runs (default 18)
  --body-bytes N        hits: response body size (default 2048)
  --writes N            propagation: writes, each probed on every other replica (default 500)
  --rate R              hit ratio: requests/s of the mixed scenario (default 15)
  --mixed-duration S    hit ratio: measured seconds per phase (default 24)
  --mixed-warmup S      hit ratio: warm-up seconds per phase (default 4)
  --size NAME           hit ratio: demo dataset size (default small)
  --no-write            print only; leave load-tests/results.md alone
`;

export type ParsedMulti =
  | { ok: true; config: MultiConfig }
  | { ok: false; problems: string[]; help?: boolean };

/**
 * A reader of the numeric flags in `values`: a flag missing reads as its fallback; one out of its range
 * or not a number adds to `problems` and reads as its fallback too.
 */
function boundedFlags(values: Record<string, unknown>, problems: string[]) {
  return (flag: string, fallback: number, [min, max]: readonly [number, number]): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) {
      problems.push(`--${flag} must be a number from ${min} to ${max} (got ${JSON.stringify(text)})`);
      return fallback;
    }
    return value;
  };
}

export function parseMultiConfig(argv: readonly string[]): ParsedMulti {
  let values: Record<string, unknown>;
  try {
    const strings = [
      "parts",
      "replicas",
      "duration",
      "rounds",
      "connections",
      "body-bytes",
      "writes",
      "rate",
    ];
    const more = ["mixed-duration", "mixed-warmup", "size"];
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        ...Object.fromEntries([...strings, ...more].map((name) => [name, { type: "string" as const }])),
        "no-write": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    return { ok: false, problems: [(error as Error).message] };
  }
  if (values.help) return { ok: false, problems: [], help: true };
  const problems: string[] = [];
  const parts = String(values.parts ?? PARTS.join(","))
    .split(",")
    .filter(Boolean);
  for (const part of parts) {
    if (!(PARTS as readonly string[]).includes(part))
      problems.push(`--parts: unknown part ${JSON.stringify(part)} (${PARTS.join(", ")})`);
  }
  const bounded = boundedFlags(values, problems);
  const config: MultiConfig = {
    parts: PARTS.filter((part) => parts.includes(part)),
    replicas: bounded("replicas", 3, [2, 8]),
    durationSeconds: bounded("duration", 1.5, [0.5, 60]),
    rounds: bounded("rounds", 3, [1, 10]),
    connections: bounded("connections", 18, [1, 256]),
    bodyBytes: bounded("body-bytes", 2048, [16, 1 << 20]),
    writes: bounded("writes", 500, [1, 100_000]),
    rate: bounded("rate", 15, [0.1, 1_000]),
    mixedSeconds: bounded("mixed-duration", 24, [1, 3_600]),
    mixedWarmupSeconds: bounded("mixed-warmup", 4, [0, 3_600]),
    size: String(values.size ?? "small"),
    write: values["no-write"] !== true,
  };
  if (!(SIZE_NAMES as readonly string[]).includes(config.size))
    problems.push(`--size must be one of ${SIZE_NAMES.join(", ")}`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}
