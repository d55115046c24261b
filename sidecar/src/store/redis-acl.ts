import { INVALIDATION_CHANNEL } from "./invalidation-channel.js";
import { fillChannel, fillLeaseKey, warmLeaseKey } from "./lease-layout.js";
import { entryKey, generationKey, keyInvalidationKey, tagKey, validateKeyPrefix } from "./redis-layout.js";
import { primaryEpochKey } from "./redis-primary-epoch.js";

/**
 * The Redis ACL a tenant's sidecars need, and nothing more (docs/security.md, "Per-tenant Redis
 * ACLs"). Pure: the key patterns and channels are derived from the layout functions (redis-layout.ts,
 * lease-layout.ts), the commands from one table naming why each is needed, so the documented rule, the
 * tests' rule and the layout cannot disagree (redis-acl.test.ts checks the docs' copy).
 *
 * Key patterns are one per key family (`<prefix>:k|*`, `<prefix>:t|*`, …), never `<prefix>:*`: a key
 * prefix never contains `|`, so the first `|` of a key ends its family and a pattern for prefix
 * `shop/a` cannot match a key of prefix `shop/a:x`.
 */

/** Why a command is in the rule: which part of the sidecar sends it. */
export type AclFeature =
  | "connection"
  | "store"
  | "scripts"
  | "fill-leases"
  | "l1-push"
  | "cluster"
  | "sentinel";

export interface AclCommand {
  /** As ACL SETUSER spells it: `get`, `client|tracking`. */
  readonly command: string;
  readonly feature: AclFeature;
  readonly why: string;
  /** The Redis version that has it (ACL SETUSER refuses a command the server does not know). */
  readonly since?: string;
}

/** Every command a sidecar sends to a data node, directly or from one of its Lua scripts. */
export const REDIS_ACL_COMMANDS: readonly AclCommand[] = [
  { command: "hello", feature: "connection", why: "ioredis opens data connections with HELLO 3 AUTH" },
  {
    command: "client|setname",
    feature: "connection",
    why: "connections are named apicache-sidecar / apicache-invalidation-<pid>",
  },
  {
    command: "client|setinfo",
    feature: "connection",
    why: "ioredis reports its library name and version (it ignores a refusal)",
    since: "7.2",
  },
  {
    command: "info",
    feature: "connection",
    why: "ioredis's ready check (INFO) and the Sentinel primary check (INFO replication)",
  },
  { command: "select", feature: "connection", why: "a /db other than 0 in the URL" },
  { command: "ping", feature: "connection", why: "the invalidation connections' heartbeat" },
  { command: "get", feature: "store", why: "entries and tag generations" },
  { command: "mget", feature: "store", why: "tag generations in one round trip" },
  { command: "set", feature: "store", why: "entries (PX), fill and warm leases (NX PX)" },
  { command: "pttl", feature: "store", why: "what is left of another pod's fill lease" },
  {
    command: "unlink",
    feature: "store",
    why: "invalidation: entries, generations and key invalidation marks",
  },
  { command: "del", feature: "store", why: "releasing a warm lease; the release script" },
  { command: "zrange", feature: "store", why: "reading a tag set's members" },
  { command: "zrem", feature: "store", why: "dropping invalidated members from a tag set" },
  { command: "zcard", feature: "store", why: "tag sets left to drain" },
  {
    command: "evalsha",
    feature: "scripts",
    why: "the fenced write, tag index, generation and drain scripts",
  },
  { command: "eval", feature: "scripts", why: "the same scripts when Redis has not cached them (NOSCRIPT)" },
  { command: "time", feature: "scripts", why: "scripts stamp tag members with Redis's clock" },
  { command: "zadd", feature: "scripts", why: "scripts index an entry under its tags" },
  { command: "zremrangebyscore", feature: "scripts", why: "scripts prune expired tag members" },
  { command: "pexpire", feature: "scripts", why: "scripts extend tag sets and generations" },
  {
    command: "subscribe",
    feature: "fill-leases",
    why: "<prefix>:fills (and __redis__:invalidate for L1 push)",
  },
  { command: "unsubscribe", feature: "fill-leases", why: "closing a subscription" },
  {
    command: "client|id",
    feature: "l1-push",
    why: "the invalidation connection redirects tracking to itself",
  },
  {
    command: "client|tracking",
    feature: "l1-push",
    why: "CLIENT TRACKING on REDIRECT <id> BCAST PREFIX <prefix>:d| PREFIX <prefix>:g|",
  },
  {
    command: "cluster|slots",
    feature: "cluster",
    why: "ioredis learns the slot map (redis+cluster:// only)",
  },
  {
    command: "cluster|info",
    feature: "cluster",
    why: "ioredis's ready check on a cluster (cluster_state:ok)",
  },
  {
    command: "asking",
    feature: "cluster",
    why: "following an ASK redirect during resharding (redis+cluster:// only)",
  },
];

export interface RedisAclOptions {
  /** Covers every default prefix of the namespace (`<namespace>/<name>`): patterns `<namespace>/*`. */
  readonly namespace?: string;
  /** Explicit spec.store.redis.keyPrefix values (literal; glob characters are escaped). */
  readonly keyPrefixes?: readonly string[];
  /** CLIENT TRACKING and `__redis__:invalidate` for L1 push (ADR 0018); false: L1 in front of Redis is off. Default true. */
  readonly l1Push?: boolean;
  /**
   * Adds what ioredis sends to a Redis Cluster's nodes. Default standalone; a primary found through
   * Sentinel is standalone here (the sentinels' own user is apart: sentinelUsername).
   */
  readonly topology?: "standalone" | "cluster";
  /** The Redis server's version, major.minor (default "7.0", the oldest with ACL selectors). */
  readonly redisVersion?: string;
}

/**
 * The tokens of `ACL SETUSER <user> …` after the user's name and password: key patterns, channels,
 * commands. PUBLISH sits in a selector limited to the fill channels, so the user may publish there but
 * not on `__redis__:invalidate` (which it may only subscribe to).
 */
export function redisAclRule(options: RedisAclOptions): string[] {
  const prefixes = prefixPatterns(options);
  const l1Push = options.l1Push ?? true;
  const topology = options.topology ?? "standalone";
  const wanted = new Set<AclFeature>(["connection", "store", "scripts", "fill-leases"]);
  if (l1Push) wanted.add("l1-push");
  if (topology === "cluster") wanted.add("cluster");
  const fills = prefixes.map((prefix) => `&${prefix}${fillChannel("")}`);
  return [
    "resetkeys",
    ...prefixes.flatMap((prefix) => KEY_STEMS.map((stem) => `~${prefix}${stem}*`)),
    "resetchannels",
    ...fills,
    ...(l1Push ? [`&${escapeGlob(INVALIDATION_CHANNEL)}`] : []),
    "-@all",
    ...REDIS_ACL_COMMANDS.filter(
      (entry) => wanted.has(entry.feature) && atLeast(options.redisVersion ?? "7.0", entry.since ?? "7.0"),
    ).map((entry) => `+${entry.command}`),
    `(+publish ${fills.join(" ")})`,
  ];
}

/** `ACL SETUSER` arguments: the user, reset, enabled, its password, then the rule. */
export function aclSetUserArguments(user: string, password: string, rule: readonly string[]): string[] {
  return ["SETUSER", user, "reset", "on", `>${password}`, ...rule];
}

/** The same as one line of an ACL file (`aclfile`) or `user` directive of redis.conf. */
export function aclFileLine(user: string, password: string, rule: readonly string[]): string {
  return ["user", user, "reset", "on", `>${password}`, ...rule].join(" ");
}

/** What follows the prefix in each key family, up to and including its `|`: `:k|`, `:t|`, … */
export const KEY_STEMS: readonly string[] = (() => {
  const probe = "P";
  const keys = [
    entryKey(probe, ""),
    tagKey(probe, ""),
    generationKey(probe, ""),
    keyInvalidationKey(probe, ""),
    fillLeaseKey(probe, ""),
    warmLeaseKey(probe, { path: "" }, 0),
    primaryEpochKey(probe),
  ];
  return keys.map((key) => key.slice(probe.length, key.indexOf("|") + 1));
})();

function prefixPatterns(options: RedisAclOptions): string[] {
  const patterns: string[] = [];
  if (options.namespace !== undefined) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.namespace)) {
      throw new Error(`"${options.namespace}" is not a Kubernetes namespace name`);
    }
    patterns.push(`${options.namespace}/*`);
  }
  for (const prefix of options.keyPrefixes ?? []) patterns.push(escapeGlob(validateKeyPrefix(prefix)));
  if (patterns.length === 0) throw new Error("redisAclRule needs a namespace or at least one key prefix");
  return patterns;
}

function atLeast(version: string, wanted: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const [wantedMajor = 0, wantedMinor = 0] = wanted.split(".").map(Number);
  return major !== wantedMajor ? major > wantedMajor : minor >= wantedMinor;
}

/** Redis glob patterns: `*`, `?`, `[`, `]` and `\` stand for themselves only when escaped. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}
