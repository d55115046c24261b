import { parseArgs } from "node:util";
import {
  type DefaultedSidecarFlag,
  parseDuration,
  SIDECAR_FLAGS,
  SIDECAR_HELP_FLAG,
  type SidecarFlagName,
  sidecarEnvName,
  sidecarFlag,
  sidecarUsage,
} from "@apicache/crds";
import { REDIS_URL_SCHEMES } from "./store/redis-url.js";
import type { LogLevel } from "./telemetry/logger.js";

/**
 * The sidecar's configuration: flags and `APICACHE_*` environment variables, parsed once, every problem
 * listed. Flags win over the environment. No other file reads process.env.
 */
export interface Config {
  readonly policyFile?: string;
  readonly upstream: string;
  readonly listen: HostPort;
  readonly redisUrl?: string;
  readonly admin: HostPort;
  readonly adminTokenFile?: string;
  /** The token file may appear after start (an optional Secret volume); until then guarded endpoints say 503. */
  readonly adminTokenWait: boolean;
  /** Serve /invalidate, /warm and /stats without a token on a non-loopback --admin address. */
  readonly adminInsecure: boolean;
  readonly policyConfigMap?: { readonly namespace: string; readonly name: string };
  readonly kubeconfig?: string;
  readonly logLevel: LogLevel;
  /** On SIGTERM: how long to keep serving while readiness reports not ready (endpoints catch up). */
  readonly shutdownDelayMs: number;
  /** Then: how long in-flight requests may take before the rest is cut. */
  readonly drainTimeoutMs: number;
  /** Concurrent upstream requests per lane: fills, writes, streamed-through traffic. */
  readonly upstreamConnections: { readonly fill: number; readonly write: number; readonly pass: number };
  /** Longest wait for a free upstream connection of a lane before a 503 (APICACHE_ERR_UPSTREAM_BUSY). */
  readonly upstreamQueueTimeoutMs: number;
  /** A client that reads nothing of its pending response for this long is cut off. */
  readonly clientWriteTimeoutMs: number;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Readonly<Config> }
  | { readonly ok: false; readonly problems: readonly string[]; readonly help?: boolean };

/** What `--help` prints (crds/src/sidecar-flag-text.ts, from the flag table). */
export const USAGE = sidecarUsage();

/** node:util parseArgs options, from the flag table (crds/src/sidecar-flags.ts). */
const OPTIONS = Object.fromEntries([
  ...SIDECAR_FLAGS.map((flag) => [flag.name, { type: flag.kind }] as const),
  [SIDECAR_HELP_FLAG.name, { type: "boolean", short: SIDECAR_HELP_FLAG.short }] as const,
]) as Record<SidecarFlagName | "help", { type: "string" | "boolean"; short?: string }>;

/** A flag's value: the flag, else its variable, else the table's default (always there for some). */
interface Get {
  (name: DefaultedSidecarFlag): string;
  (name: SidecarFlagName): string | undefined;
}
type Switch = (name: SidecarFlagName) => boolean;

export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ConfigResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return { ok: false, problems: [(error as Error).message] };
  }
  if (values.help) return { ok: false, problems: [], help: true };
  const get = ((name: SidecarFlagName) => {
    const value = values[name];
    if (typeof value === "string") return value;
    const fromEnv = env[sidecarEnvName(name)];
    return fromEnv === undefined || fromEnv === "" ? sidecarFlag(name)?.default : fromEnv;
  }) as Get;
  const problems: string[] = [];
  const flag: Switch = (name) => {
    if (values[name] === true) return true;
    const fromEnv = env[sidecarEnvName(name)];
    if (fromEnv === undefined || fromEnv === "" || fromEnv === "false" || fromEnv === "0") return false;
    if (fromEnv === "true" || fromEnv === "1") return true;
    problems.push(`${sidecarEnvName(name)} must be true or false (got ${JSON.stringify(fromEnv)})`);
    return false;
  };
  const config = build(get, flag, problems);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: Object.freeze(config) };
}

function build(get: Get, flag: Switch, problems: string[]): Config {
  const policyFile = get("policy");
  const configMap = get("policy-configmap");
  if (!policyFile && !configMap) problems.push("--policy FILE (or --policy-configmap NS/NAME) is required");
  const upstream = get("upstream");
  if (!upstream) problems.push("--upstream URL is required, e.g. --upstream http://127.0.0.1:8080");
  else if (!/^http:\/\/[^/]+/.test(upstream) || !isUrl(upstream)) {
    problems.push(
      `--upstream must be an http:// URL such as http://127.0.0.1:8080 (got ${JSON.stringify(upstream)})`,
    );
  }
  const redisUrl = get("redis");
  const knownScheme = (url: string) =>
    REDIS_URL_SCHEMES.some((scheme) => url.startsWith(`${scheme}://`) && url.length > `${scheme}://`.length);
  if (redisUrl && !knownScheme(redisUrl)) {
    problems.push(`--redis must start with ${REDIS_URL_SCHEMES.map((scheme) => `${scheme}://`).join(", ")}`);
  }
  const logLevel = get("log-level");
  const levels = sidecarFlag("log-level")?.choices ?? [];
  if (!levels.includes(logLevel)) {
    problems.push(`--log-level must be one of ${levels.join(", ")} (got ${JSON.stringify(logLevel)})`);
  }
  const configMapRef = configMap ? namespacedName(configMap, problems) : undefined;
  const kubeconfig = get("kubeconfig");
  return {
    ...(policyFile ? { policyFile } : {}),
    upstream: upstream ?? "",
    listen: hostPort("--listen", get("listen"), problems),
    ...(redisUrl ? { redisUrl } : {}),
    admin: hostPort("--admin", get("admin"), problems),
    ...adminAuthConfig(get, flag, problems),
    ...(configMapRef ? { policyConfigMap: configMapRef } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    logLevel: logLevel as LogLevel,
    shutdownDelayMs: duration("--shutdown-delay", get("shutdown-delay"), problems),
    drainTimeoutMs: duration("--drain-timeout", get("drain-timeout"), problems),
    ...transport(get, problems),
  };
}

function adminAuthConfig(
  get: Get,
  flag: Switch,
  problems: string[],
): Pick<Config, "adminTokenFile" | "adminTokenWait" | "adminInsecure"> {
  const adminTokenFile = get("admin-token-file");
  const adminTokenWait = flag("admin-token-wait");
  const adminInsecure = flag("admin-insecure");
  if (adminTokenWait && !adminTokenFile) problems.push("--admin-token-wait needs --admin-token-file FILE");
  if (adminInsecure && adminTokenFile) {
    problems.push("--admin-insecure and --admin-token-file contradict each other: choose one");
  }
  return { ...(adminTokenFile ? { adminTokenFile } : {}), adminTokenWait, adminInsecure };
}

/** The upstream lanes, their queue deadline and the client write timeout (proxy/upstream.ts, write-timeout.ts). */
function transport(
  get: Get,
  problems: string[],
): Pick<Config, "upstreamConnections" | "upstreamQueueTimeoutMs" | "clientWriteTimeoutMs"> {
  return {
    upstreamConnections: {
      fill: count("--upstream-fill-connections", get("upstream-fill-connections"), problems),
      write: count("--upstream-write-connections", get("upstream-write-connections"), problems),
      pass: count("--upstream-pass-connections", get("upstream-pass-connections"), problems),
    },
    upstreamQueueTimeoutMs: duration("--upstream-queue-timeout", get("upstream-queue-timeout"), problems),
    clientWriteTimeoutMs: duration("--client-write-timeout", get("client-write-timeout"), problems),
  };
}

function count(flag: string, text: string, problems: string[]): number {
  const value = Number(text);
  if (!/^\d{1,5}$/.test(text) || value < 1 || value > 10_000) {
    problems.push(`${flag} must be a whole number from 1 to 10000 (got ${JSON.stringify(text)})`);
    return 1;
  }
  return value;
}

function duration(flag: string, text: string, problems: string[]): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    problems.push(`${flag} must be a duration such as 5s or 500ms (got ${JSON.stringify(text)})`);
  return ms ?? 0;
}

function isUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

export function hostPort(flag: string, text: string, problems: string[]): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    problems.push(
      `${flag} must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (got ${JSON.stringify(text)})`,
    );
    return { host: "", port: 0 };
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

function namespacedName(text: string, problems: string[]): { namespace: string; name: string } | undefined {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(text);
  if (!match) {
    problems.push(`--policy-configmap must be NAMESPACE/NAME (got ${JSON.stringify(text)})`);
    return undefined;
  }
  return { namespace: match[1] as string, name: match[3] as string };
}
