import { parseArgs } from "node:util";
import { parseDuration } from "@apicache/crds";
import { REDIS_URL_SCHEMES } from "./store/redis-url.js";
import { LOG_LEVELS, type LogLevel } from "./telemetry/logger.js";

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

export const USAGE = `Usage: apicache-sidecar --policy FILE --upstream URL --listen HOST:PORT [options]

Caching reverse proxy in front of an HTTP API, configured by a CachePolicy manifest.

Options (each also as an environment variable):
  --policy FILE                    CachePolicy manifest or the operator's SidecarConfig       APICACHE_POLICY
                                   (YAML or JSON); reloaded on change
  --upstream URL                   the application, e.g. http://127.0.0.1:8080                APICACHE_UPSTREAM
  --listen HOST:PORT               proxy listener (default 0.0.0.0:8080)                      APICACHE_LISTEN
  --redis URL                      redis://h:p, rediss://, redis+cluster://h:p,h:p or
                                   redis+sentinel://h:p,h:p/primary-name (default: in-memory only)
                                                                                              APICACHE_REDIS_URL
  --admin HOST:PORT                admin listener (default 127.0.0.1:9901)                    APICACHE_ADMIN
  --admin-token-file FILE          bearer token for /invalidate, /warm and /stats; re-read    APICACHE_ADMIN_TOKEN_FILE
                                   on change; empty or unreadable: the sidecar does not start
  --admin-token-wait               the token file may appear after start (optional Secret     APICACHE_ADMIN_TOKEN_WAIT
                                   volume): until then /invalidate, /warm, /stats answer 503
  --admin-insecure                 allow /invalidate, /warm and /stats WITHOUT a token on a   APICACHE_ADMIN_INSECURE
                                   non-loopback --admin address (otherwise: refuse to start)
  --policy-configmap NS/NAME       also watch this ConfigMap's policy.yaml via the API        APICACHE_POLICY_CONFIGMAP
  --kubeconfig FILE                kubeconfig for --policy-configmap (default: in-cluster)    APICACHE_KUBECONFIG
  --log-level LEVEL                fatal|error|warn|info|debug|trace|silent (default info)    APICACHE_LOG_LEVEL
  --shutdown-delay DURATION        on SIGTERM, keep serving (not ready, Connection: close)    APICACHE_SHUTDOWN_DELAY
                                   this long before closing the listener (default 5s)
  --drain-timeout DURATION         then wait this long for in-flight requests (default 20s)   APICACHE_DRAIN_TIMEOUT
  --upstream-fill-connections N    concurrent cache fills to the upstream (default 64)        APICACHE_UPSTREAM_FILL_CONNECTIONS
  --upstream-write-connections N   concurrent writes to the upstream (default 32)             APICACHE_UPSTREAM_WRITE_CONNECTIONS
  --upstream-pass-connections N    concurrent streamed-through requests: bypassed reads,      APICACHE_UPSTREAM_PASS_CONNECTIONS
                                   uncacheable answers, event streams (default 128)
  --upstream-queue-timeout DURATION  longest wait for a free connection, then 503 (default 5s) APICACHE_UPSTREAM_QUEUE_TIMEOUT
  --client-write-timeout DURATION  cut a client that reads nothing this long (default 30s)    APICACHE_CLIENT_WRITE_TIMEOUT
  -h, --help                       show this help
`;

const OPTIONS = {
  policy: { type: "string" },
  upstream: { type: "string" },
  listen: { type: "string" },
  redis: { type: "string" },
  admin: { type: "string" },
  "admin-token-file": { type: "string" },
  "admin-token-wait": { type: "boolean" },
  "admin-insecure": { type: "boolean" },
  "policy-configmap": { type: "string" },
  kubeconfig: { type: "string" },
  "log-level": { type: "string" },
  "shutdown-delay": { type: "string" },
  "drain-timeout": { type: "string" },
  "upstream-fill-connections": { type: "string" },
  "upstream-write-connections": { type: "string" },
  "upstream-pass-connections": { type: "string" },
  "upstream-queue-timeout": { type: "string" },
  "client-write-timeout": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const ENV: Readonly<Record<string, string>> = {
  policy: "APICACHE_POLICY",
  upstream: "APICACHE_UPSTREAM",
  listen: "APICACHE_LISTEN",
  redis: "APICACHE_REDIS_URL",
  admin: "APICACHE_ADMIN",
  "admin-token-file": "APICACHE_ADMIN_TOKEN_FILE",
  "admin-token-wait": "APICACHE_ADMIN_TOKEN_WAIT",
  "admin-insecure": "APICACHE_ADMIN_INSECURE",
  "policy-configmap": "APICACHE_POLICY_CONFIGMAP",
  kubeconfig: "APICACHE_KUBECONFIG",
  "log-level": "APICACHE_LOG_LEVEL",
  "shutdown-delay": "APICACHE_SHUTDOWN_DELAY",
  "drain-timeout": "APICACHE_DRAIN_TIMEOUT",
  "upstream-fill-connections": "APICACHE_UPSTREAM_FILL_CONNECTIONS",
  "upstream-write-connections": "APICACHE_UPSTREAM_WRITE_CONNECTIONS",
  "upstream-pass-connections": "APICACHE_UPSTREAM_PASS_CONNECTIONS",
  "upstream-queue-timeout": "APICACHE_UPSTREAM_QUEUE_TIMEOUT",
  "client-write-timeout": "APICACHE_CLIENT_WRITE_TIMEOUT",
};

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
  const get = (flag: string): string | undefined => {
    const value = values[flag];
    if (typeof value === "string") return value;
    const fromEnv = env[ENV[flag] as string];
    return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
  };
  const problems: string[] = [];
  const flag = (name: string): boolean => {
    if (values[name] === true) return true;
    const fromEnv = env[ENV[name] as string];
    if (fromEnv === undefined || fromEnv === "" || fromEnv === "false" || fromEnv === "0") return false;
    if (fromEnv === "true" || fromEnv === "1") return true;
    problems.push(`${ENV[name]} must be true or false (got ${JSON.stringify(fromEnv)})`);
    return false;
  };
  const config = build(get, flag, problems);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: Object.freeze(config) };
}

function build(
  get: (flag: string) => string | undefined,
  flag: (name: string) => boolean,
  problems: string[],
): Config {
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
  const logLevel = get("log-level") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`--log-level must be one of ${LOG_LEVELS.join(", ")} (got ${JSON.stringify(logLevel)})`);
  }
  const configMapRef = configMap ? namespacedName(configMap, problems) : undefined;
  const kubeconfig = get("kubeconfig");
  return {
    ...(policyFile ? { policyFile } : {}),
    upstream: upstream ?? "",
    listen: hostPort("--listen", get("listen") ?? "0.0.0.0:8080", problems),
    ...(redisUrl ? { redisUrl } : {}),
    admin: hostPort("--admin", get("admin") ?? "127.0.0.1:9901", problems),
    ...adminAuthConfig(get, flag, problems),
    ...(configMapRef ? { policyConfigMap: configMapRef } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    logLevel: logLevel as LogLevel,
    shutdownDelayMs: duration("--shutdown-delay", get("shutdown-delay") ?? "5s", problems),
    drainTimeoutMs: duration("--drain-timeout", get("drain-timeout") ?? "20s", problems),
    ...transport(get, problems),
  };
}

function adminAuthConfig(
  get: (flag: string) => string | undefined,
  flag: (name: string) => boolean,
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
  get: (flag: string) => string | undefined,
  problems: string[],
): Pick<Config, "upstreamConnections" | "upstreamQueueTimeoutMs" | "clientWriteTimeoutMs"> {
  return {
    upstreamConnections: {
      fill: count("--upstream-fill-connections", get("upstream-fill-connections") ?? "64", problems),
      write: count("--upstream-write-connections", get("upstream-write-connections") ?? "32", problems),
      pass: count("--upstream-pass-connections", get("upstream-pass-connections") ?? "128", problems),
    },
    upstreamQueueTimeoutMs: duration(
      "--upstream-queue-timeout",
      get("upstream-queue-timeout") ?? "5s",
      problems,
    ),
    clientWriteTimeoutMs: duration("--client-write-timeout", get("client-write-timeout") ?? "30s", problems),
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
