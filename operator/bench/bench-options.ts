import { parseArgs } from "node:util";

/**
 * The operator benchmark's flags, one table (usage is derived from it). The defaults are the issue
 * #13 acceptance scenario: 5,000 CachePolicies over 50 namespaces, 2 pods each (10,000). `--quick`
 * is the old 500-policy scenario (10 namespaces, 1,000 pods) for a run of a minute or two.
 */
const FLAGS = {
  policies: { type: "string", default: "5000", help: "CachePolicies to create" },
  namespaces: { type: "string", default: "50", help: "namespaces to spread them over" },
  "pods-per-policy": { type: "string", default: "2", help: "pods created per policy (0: no pod phase)" },
  "webhook-requests": {
    type: "string",
    default: "5000",
    help: "AdmissionReviews sent straight to the webhook",
  },
  concurrency: { type: "string", default: "50", help: "their concurrency" },
  "resync-period": { type: "string", default: "10m", help: "--resync-period of the first operator process" },
  "restart-resync-period": {
    type: "string",
    default: "auto",
    help: "--resync-period of the restarted one (auto: 0.9 × the Ready time + 30 s, at least 60 s)",
  },
  quick: { type: "boolean", default: false, help: "500 policies, 10 namespaces, 1,000 pods" },
  "cpu-prof": {
    type: "boolean",
    default: false,
    help: "run the operator with --cpu-prof; print where its CPU went",
  },
  "heap-prof": {
    type: "boolean",
    default: false,
    help: "run the operator with --heap-prof; print its live heap",
  },
  "operator-node-flags": {
    type: "string",
    default: "",
    help: 'extra node flags for the operator, e.g. "--max-old-space-size=192" (a what-if, never written)',
  },
  write: {
    type: "boolean",
    default: false,
    help: "write load-tests/results.md even when this is not the acceptance scenario",
  },
  help: { type: "boolean", default: false, help: "print this" },
} as const;

export interface BenchOptions {
  readonly policies: number;
  readonly namespaces: number;
  readonly podsPerPolicy: number;
  readonly webhookRequests: number;
  readonly concurrency: number;
  readonly resyncPeriod: string;
  /** undefined: derived from the Ready time. */
  readonly restartResyncMs: number | undefined;
  readonly cpuProfile: boolean;
  readonly heapProfile: boolean;
  readonly operatorNodeFlags: readonly string[];
  /** APICACHE_OPERATOR_* variables in the environment (the operator reads them as flags): a what-if. */
  readonly operatorEnv: readonly string[];
  /** The acceptance scenario, unprofiled: its figures go to load-tests/results.md. */
  readonly acceptance: boolean;
  readonly write: boolean;
  readonly help: boolean;
}

export function usage(): string {
  const lines = Object.entries(FLAGS).map(
    ([name, flag]) =>
      `  --${name}${flag.type === "string" ? ` <${flag.default}>` : ""}`.padEnd(32) + flag.help,
  );
  return `Usage: tsx operator/bench/operator-bench.ts [flags]\n${lines.join("\n")}`;
}

function positiveInteger(name: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return value;
}

function durationMs(name: string, text: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(text);
  if (!match) throw new Error(`--${name} must look like 90s or 4m, not ${JSON.stringify(text)}`);
  return Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[match[2] as "ms" | "s" | "m"];
}

export function parseBenchOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): BenchOptions {
  const { values } = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false });
  const given = (name: string) => argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  const pick = (name: keyof typeof FLAGS, quickValue: string) =>
    values.quick && !given(name) ? quickValue : (values[name] as string);
  const policies = positiveInteger("policies", pick("policies", "500"));
  const namespaces = positiveInteger("namespaces", pick("namespaces", "10"));
  const podsPerPolicy = positiveInteger("pods-per-policy", values["pods-per-policy"], 0);
  const resyncPeriod = values["resync-period"];
  durationMs("resync-period", resyncPeriod);
  const restartResync = values["restart-resync-period"];
  const operatorNodeFlags = values["operator-node-flags"].split(/\s+/).filter(Boolean);
  const operatorEnv = Object.entries(env)
    .filter(([name]) => name.startsWith("APICACHE_OPERATOR_"))
    .map(([name, value]) => `${name}=${value}`);
  const profiled =
    values["cpu-prof"] || values["heap-prof"] || operatorNodeFlags.length > 0 || operatorEnv.length > 0;
  // Profiled or patched runs measure something else: their figures are printed, never written.
  const acceptance = policies === 5000 && namespaces === 50 && podsPerPolicy === 2 && !profiled;
  return {
    policies,
    namespaces,
    podsPerPolicy,
    webhookRequests: positiveInteger("webhook-requests", values["webhook-requests"]),
    concurrency: positiveInteger("concurrency", values.concurrency),
    resyncPeriod,
    restartResyncMs:
      restartResync === "auto" ? undefined : durationMs("restart-resync-period", restartResync),
    cpuProfile: values["cpu-prof"],
    heapProfile: values["heap-prof"],
    operatorNodeFlags,
    operatorEnv,
    acceptance,
    write: acceptance || values.write,
    help: values.help,
  };
}
