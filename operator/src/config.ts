import { parseDuration, parseResourceQuantity } from "@apicache/crds";
import { OPERATOR_ERROR_CODES, OperatorError } from "./errors.js";
import { type ConfigSources, defaultVersion, FLAGS, type FlagSpec } from "./flags.js";

/**
 * The operator's configuration: flags, each also an APICACHE_OPERATOR_* environment variable (a
 * flag wins), parsed and checked once here; every problem is listed. No other file reads
 * process.env.
 */
export interface Config {
  readonly kubeconfig?: string;
  readonly namespace: string;
  readonly identity: string;
  readonly sidecarImage: string;
  readonly sidecarImagePullPolicy: "Always" | "IfNotPresent" | "Never";
  readonly sidecarLogLevel?: string;
  readonly sidecarVersion: string;
  readonly sidecarPinUser: boolean;
  /** Operator-wide sidecar resources (Kubernetes quantities); unset: the built-in defaults. */
  readonly sidecarCpuRequest?: string;
  readonly sidecarCpuLimit?: string;
  readonly sidecarMemoryRequest?: string;
  readonly sidecarMemoryLimit?: string;
  readonly nativeSidecar: "auto" | "true" | "false";
  readonly leaderElect: boolean;
  readonly leaseName: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly metricsListen: { readonly host: string; readonly port: number };
  readonly webhookListen: { readonly host: string; readonly port: number };
  readonly webhookUrl?: string;
  readonly webhookService: string;
  readonly webhookConfigurationName: string;
  readonly webhookTimeoutSeconds: number;
  readonly certMode: "self-managed" | "cert-manager";
  readonly certSecret: string;
  readonly certDir: string;
  readonly certValidityMs: number;
  readonly caValidityMs: number;
  readonly resyncPeriodMs: number;
  readonly shutdownDelayMs: number;
  readonly workers: number;
  readonly writeQps: number;
  readonly writeBurst: number;
  readonly logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
}

export function envVarOf(flag: string): string {
  return `APICACHE_OPERATOR_${flag.toUpperCase().replaceAll("-", "_")}`;
}

function readRaw(sources: ConfigSources, problems: string[]): Map<string, string> {
  const raw = new Map<string, string>();
  for (const spec of FLAGS) {
    const value = sources.env[envVarOf(spec.name)];
    if (value !== undefined && value !== "") raw.set(spec.name, value);
  }
  const argv = [...sources.argv];
  while (argv.length > 0) {
    const arg = argv.shift() as string;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const spec = match ? FLAGS.find((f) => f.name === match[1]) : undefined;
    if (!match || !spec) {
      problems.push(`unknown argument ${JSON.stringify(arg)} (see --help)`);
      continue;
    }
    let value = match[2];
    if (value === undefined)
      value = spec.kind === "boolean" && !/^(true|false)$/.test(argv[0] ?? "") ? "true" : argv.shift();
    if (value === undefined) problems.push(`--${spec.name} needs a value`);
    else raw.set(spec.name, value);
  }
  return raw;
}

function convert(spec: FlagSpec, text: string, problems: string[]): unknown {
  const where = `--${spec.name} (${envVarOf(spec.name)})`;
  switch (spec.kind) {
    case "boolean":
      if (text === "true" || text === "false") return text === "true";
      problems.push(`${where} must be true or false, got ${JSON.stringify(text)}`);
      return undefined;
    case "duration": {
      const ms = parseDuration(text);
      if (ms !== undefined && (ms > 0 || (ms === 0 && spec.zeroAllowed))) return ms;
      problems.push(`${where} must be a duration such as 500ms, 15s or 2160h, got ${JSON.stringify(text)}`);
      return undefined;
    }
    case "integer":
      if (/^[1-9][0-9]*$/.test(text)) return Number(text);
      problems.push(`${where} must be a positive integer, got ${JSON.stringify(text)}`);
      return undefined;
    case "address":
      return parseAddress(text, where, problems);
    case "quantity":
      if (parseResourceQuantity(text) !== undefined) return text;
      problems.push(
        `${where} must be a Kubernetes quantity such as 500m, 1, 128Mi or 1Gi, got ${JSON.stringify(text)}`,
      );
      return undefined;
    default:
      if (spec.choices && !spec.choices.includes(text)) {
        problems.push(`${where} must be one of ${spec.choices.join(", ")}, got ${JSON.stringify(text)}`);
        return undefined;
      }
      return text;
  }
}

function parseAddress(text: string, where: string, problems: string[]) {
  const match = /^(.*):([0-9]{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65535) {
    problems.push(`${where} must be HOST:PORT (e.g. 0.0.0.0:8080, 127.0.0.1:0), got ${JSON.stringify(text)}`);
    return undefined;
  }
  return { host: (match[1] ?? "").replace(/^\[(.*)\]$/, "$1") || "0.0.0.0", port };
}

function crossChecks(config: Config, problems: string[]): void {
  if (config.webhookUrl !== undefined) {
    const url = URL.canParse(config.webhookUrl) ? new URL(config.webhookUrl) : undefined;
    if (url?.protocol !== "https:" || url.pathname !== "/" || url.search !== "") {
      problems.push(
        `--webhook-url must be a base URL https://HOST:PORT, got ${JSON.stringify(config.webhookUrl)}`,
      );
    }
  }
  if (config.renewDeadlineMs >= config.leaseDurationMs) {
    problems.push("--renew-deadline must be shorter than --lease-duration");
  }
  if (config.retryPeriodMs >= config.renewDeadlineMs) {
    problems.push("--retry-period must be shorter than --renew-deadline");
  }
  if (config.caValidityMs < config.certValidityMs)
    problems.push("--ca-validity must be at least --cert-validity");
}

export function parseConfig(sources: ConfigSources): Readonly<Config> {
  const problems: string[] = [];
  const raw = readRaw(sources, problems);
  const values: Record<string, unknown> = {};
  for (const spec of FLAGS) {
    const text = raw.get(spec.name) ?? spec.default?.(sources);
    if (text === undefined) continue;
    const value = convert(spec, text, problems);
    if (value !== undefined) values[spec.key] = value;
  }
  const config = { sidecarVersion: defaultVersion, ...values } as unknown as Config;
  if (problems.length === 0) crossChecks(config, problems);
  if (problems.length > 0) {
    throw new OperatorError(
      OPERATOR_ERROR_CODES.CONFIG,
      `invalid configuration:\n  ${problems.join("\n  ")}\nRun with --help for every flag.`,
    );
  }
  return Object.freeze(config);
}

export function usage(): string {
  const lines = FLAGS.map((spec) => {
    const value =
      spec.kind === "boolean" ? "" : ` ${spec.kind === "string" ? "VALUE" : spec.kind.toUpperCase()}`;
    return `  --${spec.name}${value}\n      ${spec.help} [env ${envVarOf(spec.name)}]`;
  });
  return `Usage: apicache-operator [flags]\n\n${lines.join("\n")}\n`;
}
