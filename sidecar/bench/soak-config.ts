/**
 * Flags of `make soak` (soak.ts), parsed once with every problem listed. One table gives each numeric
 * flag its default, range and help line; the usage text is derived from it. Pure.
 */
import { parseArgs } from "node:util";

export interface SoakConfig {
  /** Length of the run, warm-up included. */
  readonly minutes: number;
  /** Seconds between two samples of the sidecar (RSS, descriptors, /metrics). */
  readonly sampleEverySeconds: number;
  /** Seconds between two faults; the first comes one interval in. */
  readonly faultEverySeconds: number;
  /** Requests per second over all clients (a ceiling: each client paces itself). */
  readonly rate: number;
  readonly clients: number;
  /** Items per route (/public/items/:id, /me/items/:id): distinct keys, so L1 fills and evicts. */
  readonly items: number;
  /** Size of each body's padding. */
  readonly bodyBytes: number;
  /** The L1 budget (spec.store.memory.maxBytes), MiB. */
  readonly l1MiB: number;
  readonly write: boolean;
}

type NumericKey = Exclude<keyof SoakConfig, "write" | "faultEverySeconds">;

interface NumericFlag {
  readonly flag: string;
  readonly key: NumericKey;
  readonly fallback: number;
  readonly range: readonly [number, number];
  readonly help: string;
}

const NUMERIC: readonly NumericFlag[] = [
  {
    flag: "minutes",
    key: "minutes",
    fallback: 30,
    range: [1, 1_440],
    help: "length of the run (make: SOAK_MINUTES)",
  },
  {
    flag: "sample-every",
    key: "sampleEverySeconds",
    fallback: 3,
    range: [2, 5],
    help: "seconds between samples",
  },
  {
    flag: "rate",
    key: "rate",
    fallback: 200,
    range: [10, 400],
    help: "requests/s over all clients, at most",
  },
  { flag: "clients", key: "clients", fallback: 8, range: [1, 64], help: "clients, one user each" },
  {
    flag: "items",
    key: "items",
    fallback: 5_000,
    range: [100, 100_000],
    help: "items per route (distinct keys)",
  },
  {
    flag: "body-bytes",
    key: "bodyBytes",
    fallback: 16_384,
    range: [0, 65_536],
    help: "padding of each body",
  },
  { flag: "l1-mib", key: "l1MiB", fallback: 64, range: [8, 1_024], help: "L1 budget, MiB (memory.maxBytes)" },
];

/** Faults every 3 minutes, or often enough that a short run still sees each of them once. */
export const FAULT_EVERY_SECONDS = 180;
export const FAULT_KINDS = 4;
/** A fault starts only this long before the run's end: its hold, its recovery bound, a margin. */
export const FAULT_ROOM_SECONDS = 30;

export function defaultFaultEvery(minutes: number): number {
  const spread = Math.floor((minutes * 60 - FAULT_ROOM_SECONDS) / FAULT_KINDS);
  return Math.max(10, Math.min(FAULT_EVERY_SECONDS, spread));
}

export const SOAK_USAGE = `Usage: soak [options]

One sidecar (the tsc build) on a real redis-server, a steady mixed load with
invalidating writes, a fault every few minutes (Redis killed, Redis paused, upstream restarted,
policy reloaded); samples the sidecar's RSS, heap, event-loop delay, descriptors and sockets, fits
lines after a warm-up and fails if memory or descriptors grow. Writes load-tests/soak.svg and the
"Soak (make soak)" section of load-tests/results.md.

${NUMERIC.map((f) => `${`  --${f.flag} N`.padEnd(22)}${f.help} (default ${f.fallback})`).join("\n")}
  --fault-every S       seconds between faults (default ${FAULT_EVERY_SECONDS}, or a fifth of a shorter run)
  --no-write            print only; leave load-tests/results.md and load-tests/soak.svg alone
`;

export type ParsedSoak = { ok: true; config: SoakConfig } | { ok: false; problems: string[]; help?: boolean };

/**
 * A reader of the numeric flags in `values`: a flag missing reads as its fallback; one empty, out of its
 * range or not a number adds to `problems` and reads as its fallback too.
 */
function numericFlags(values: Record<string, unknown>, problems: string[]) {
  return (flag: string, fallback: number, [min, max]: readonly [number, number]): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text === "" || !Number.isFinite(value) || value < min || value > max) {
      problems.push(`--${flag} must be a number from ${min} to ${max} (got ${JSON.stringify(text)})`);
      return fallback;
    }
    return value;
  };
}

export function parseSoakConfig(argv: readonly string[]): ParsedSoak {
  let values: Record<string, unknown>;
  try {
    const strings = [...NUMERIC.map((f) => f.flag), "fault-every"];
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        ...Object.fromEntries(strings.map((name) => [name, { type: "string" as const }])),
        "no-write": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    return { ok: false, problems: [(error as Error).message] };
  }
  if (values.help) return { ok: false, problems: [], help: true };
  const problems: string[] = [];
  const numberFrom = numericFlags(values, problems);
  const numbers = Object.fromEntries(
    NUMERIC.map((f) => [f.key, numberFrom(f.flag, f.fallback, f.range)]),
  ) as Record<NumericKey, number>;
  const runSeconds = numbers.minutes * 60;
  const faultEverySeconds = numberFrom("fault-every", defaultFaultEvery(numbers.minutes), [10, runSeconds]);
  const config: SoakConfig = { ...numbers, faultEverySeconds, write: values["no-write"] !== true };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}
