import { DEFAULT_ADMIN, DEFAULT_LISTEN } from "./sidecar-contract.js";

/**
 * The sidecar's command line (issue #17): every flag once, with its environment variable, default and
 * help. The sidecar parses its flags and prints its usage from this table, docs/sidecar.md's flag table
 * is generated from it, and the operator builds the injected container's args and env from it
 * (sidecar-args.ts), so a flag one side knows and the other does not cannot be written down.
 * Pure data; the checks of each value live with the sidecar's config.
 */
export interface SidecarFlag {
  /** `--name` on the command line. */
  readonly name: string;
  /** The environment variable that sets it when the flag is absent (flags win). */
  readonly env: string;
  /** A string takes a value; a boolean is a switch (`--x`, or `true`/`false`/`1`/`0` in the env). */
  readonly kind: "string" | "boolean";
  /** The value's placeholder in the usage and the docs: FILE, URL, HOST:PORT, N, DURATION… */
  readonly value?: string;
  /** The value taken when neither the flag nor its variable is set. */
  readonly default?: string;
  /** Without a default: what an unset flag means, for the usage and the docs ("in-memory only"). */
  readonly unset?: string;
  /** The only values accepted, in the order the problems list them. */
  readonly choices?: readonly string[];
  readonly help: string;
  /** Markdown appended to the help in the docs table only (a link to a section of docs/sidecar.md). */
  readonly docs?: string;
}

export const SIDECAR_FLAGS = [
  {
    name: "policy",
    env: "APICACHE_POLICY",
    kind: "string",
    value: "FILE",
    unset: "required unless --policy-configmap",
    help: "a CachePolicy manifest or the operator's SidecarConfig (YAML or JSON), reloaded on change",
    docs: '(see "What the sidecar reads")',
  },
  {
    name: "upstream",
    env: "APICACHE_UPSTREAM",
    kind: "string",
    value: "URL",
    unset: "required",
    help: "the application, e.g. http://127.0.0.1:8080",
  },
  {
    name: "listen",
    env: "APICACHE_LISTEN",
    kind: "string",
    value: "HOST:PORT",
    default: DEFAULT_LISTEN,
    help: "proxy listener",
  },
  {
    name: "redis",
    env: "APICACHE_REDIS_URL",
    kind: "string",
    value: "URL",
    unset: "in-memory only",
    help: "redis://host:port[/db], rediss://…, redis+cluster://h:p,h:p or redis+sentinel://h:p,h:p/primary-name",
    docs: "(see [Redis Sentinel](#redis-sentinel))",
  },
  {
    name: "admin",
    env: "APICACHE_ADMIN",
    kind: "string",
    value: "HOST:PORT",
    default: DEFAULT_ADMIN,
    help: "admin listener",
  },
  {
    name: "admin-token-file",
    env: "APICACHE_ADMIN_TOKEN_FILE",
    kind: "string",
    value: "FILE",
    unset: "none",
    help: "bearer token for /invalidate, /warm and /stats; re-read on change; empty or unreadable: the sidecar does not start",
  },
  {
    name: "admin-token-wait",
    env: "APICACHE_ADMIN_TOKEN_WAIT",
    kind: "boolean",
    unset: "off",
    help: "the token file may appear after start (an optional Secret volume): until then /invalidate, /warm and /stats answer 503",
    docs: '(see "Admin API")',
  },
  {
    name: "admin-insecure",
    env: "APICACHE_ADMIN_INSECURE",
    kind: "boolean",
    unset: "off",
    help: "allow /invalidate, /warm and /stats WITHOUT a token on a non-loopback --admin address (otherwise: refuse to start; not recommended)",
  },
  {
    name: "policy-configmap",
    env: "APICACHE_POLICY_CONFIGMAP",
    kind: "string",
    value: "NS/NAME",
    unset: "none",
    help: "also watch this ConfigMap's policy.yaml through the API",
  },
  {
    name: "kubeconfig",
    env: "APICACHE_KUBECONFIG",
    kind: "string",
    value: "FILE",
    unset: "in-cluster",
    help: "credentials for --policy-configmap",
  },
  {
    name: "log-level",
    env: "APICACHE_LOG_LEVEL",
    kind: "string",
    value: "LEVEL",
    default: "info",
    choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    help: "debug logs one line per request",
  },
  {
    name: "shutdown-delay",
    env: "APICACHE_SHUTDOWN_DELAY",
    kind: "string",
    value: "DURATION",
    default: "5s",
    help: "on SIGTERM, keep serving (not ready, Connection: close) this long before closing the listener",
  },
  {
    name: "drain-timeout",
    env: "APICACHE_DRAIN_TIMEOUT",
    kind: "string",
    value: "DURATION",
    default: "20s",
    help: "then wait this long for in-flight requests",
  },
  {
    name: "upstream-fill-connections",
    env: "APICACHE_UPSTREAM_FILL_CONNECTIONS",
    kind: "string",
    value: "N",
    default: "64",
    help: "concurrent cache fills to the application",
  },
  {
    name: "upstream-write-connections",
    env: "APICACHE_UPSTREAM_WRITE_CONNECTIONS",
    kind: "string",
    value: "N",
    default: "32",
    help: "concurrent writes to the application",
  },
  {
    name: "upstream-pass-connections",
    env: "APICACHE_UPSTREAM_PASS_CONNECTIONS",
    kind: "string",
    value: "N",
    default: "128",
    help: "concurrent streamed-through requests: bypassed reads, uncacheable answers, event streams",
    docs: '(see "Upstream lanes")',
  },
  {
    name: "upstream-queue-timeout",
    env: "APICACHE_UPSTREAM_QUEUE_TIMEOUT",
    kind: "string",
    value: "DURATION",
    default: "5s",
    help: "longest wait for a free connection of a lane, then 503",
  },
  {
    name: "client-write-timeout",
    env: "APICACHE_CLIENT_WRITE_TIMEOUT",
    kind: "string",
    value: "DURATION",
    default: "30s",
    help: "cut a client that reads nothing of its response this long",
  },
] as const satisfies readonly SidecarFlag[];

export type SidecarFlagName = (typeof SIDECAR_FLAGS)[number]["name"];
/** The flags that always have a value (the table gives a default). */
export type DefaultedSidecarFlag = Extract<(typeof SIDECAR_FLAGS)[number], { default: string }>["name"];

/** `-h`/`--help`: not a setting, so neither in the table nor in the environment. */
export const SIDECAR_HELP_FLAG = { name: "help", short: "h", help: "show this help" } as const;

const BY_NAME: ReadonlyMap<string, SidecarFlag> = new Map(SIDECAR_FLAGS.map((flag) => [flag.name, flag]));

/** The flag called `name`, or undefined when the sidecar has no such flag. */
export function sidecarFlag(name: string): SidecarFlag | undefined {
  return BY_NAME.get(name);
}

/** The environment variable of a flag. */
export function sidecarEnvName(name: SidecarFlagName): string {
  return (BY_NAME.get(name) as SidecarFlag).env;
}
