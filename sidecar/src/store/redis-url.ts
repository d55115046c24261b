import { StoreError } from "./errors.js";

/**
 * Pure parsing of the `--redis` URL (contract: `redis://host:port[/db]`, `rediss://…`,
 * `redis+cluster://host:port,host:port,…`, or `redis+sentinel://host:port,host:port/primary-name[/db]`;
 * the `rediss` schemes add TLS). Credentials for the data nodes may sit in the userinfo part
 * (`redis://user:pass@host:port`); the sentinels' own in `?sentinelUsername=…&sentinelPassword=…`.
 * `redactRedisUrl` hides every password for logs.
 */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

interface Credentials {
  readonly username?: string;
  readonly password?: string;
}

export type RedisTarget =
  | ({
      readonly kind: "standalone";
      readonly node: RedisNode;
      readonly db: number;
      readonly tls: boolean;
    } & Credentials)
  | ({ readonly kind: "cluster"; readonly nodes: readonly RedisNode[]; readonly tls: boolean } & Credentials)
  | SentinelTarget;

/** A primary found through Redis Sentinel; `tls` covers the sentinels and the data nodes alike. */
export type SentinelTarget = {
  readonly kind: "sentinel";
  readonly sentinels: readonly RedisNode[];
  /** The name the sentinels monitor the primary under (`sentinel monitor <name> …`). */
  readonly primaryName: string;
  readonly db: number;
  readonly tls: boolean;
  readonly sentinelUsername?: string;
  readonly sentinelPassword?: string;
} & Credentials;

/** Every scheme `parseRedisUrl` accepts (the config check and the usage text derive from it). */
export const REDIS_URL_SCHEMES = [
  "redis",
  "rediss",
  "redis+cluster",
  "rediss+cluster",
  "redis+sentinel",
  "rediss+sentinel",
] as const;

/** The accepted forms, as error messages and docs name them. */
export const REDIS_URL_FORMS =
  "redis://[user:password@]host:port[/db], rediss://… (TLS), redis+cluster://host:port,host:port,… " +
  "or redis+sentinel://host:port,host:port/primary-name[/db][?sentinelUsername=…&sentinelPassword=…] " +
  "(rediss+cluster://, rediss+sentinel:// with TLS)";

const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;
const SENTINEL_PARAMETERS = ["sentinelUsername", "sentinelPassword"] as const;

function invalid(url: string, problem: string): StoreError {
  return new StoreError(
    "APICACHE_ERR_STORE_URL_INVALID",
    `Redis URL "${redactRedisUrl(url)}" is invalid: ${problem}. Use ${REDIS_URL_FORMS}; ` +
      "credentials as user:password@ before the hosts, percent-encoded.",
  );
}

export function parseRedisUrl(url: string): RedisTarget {
  const match = /^([a-z+]+):\/\/(.*)$/i.exec(url.trim());
  if (match === null) throw invalid(url, "it has no scheme://");
  const scheme = (match[1] ?? "").toLowerCase();
  const rest = match[2] ?? "";
  switch (scheme) {
    case "redis":
    case "rediss":
      return parseStandalone(url, rest, scheme === "rediss");
    case "redis+cluster":
    case "rediss+cluster":
      return parseCluster(url, rest, scheme === "rediss+cluster");
    case "redis+sentinel":
    case "rediss+sentinel":
      return parseSentinel(url, rest, scheme === "rediss+sentinel");
    default:
      throw invalid(url, `unknown scheme "${scheme}"`);
  }
}

function decoder(url: string, what: string): (text: string) => string {
  return (text) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw invalid(url, `${what} is not valid percent-encoding`);
    }
  };
}

/**
 * Where the userinfo of `rest` (the URL after `scheme://`) ends: its last "@" before the query or
 * fragment, or, when none is there, a later "@" that is not inside a query parameter (a password
 * with an unencoded ?, # or /); -1 without userinfo. Parsing and redaction both use it, so a secret
 * the parser takes as a password is never echoed as a host in an error.
 */
function userinfoEnd(rest: string): number {
  const delimiter = rest.search(/[?#]/);
  const authority = delimiter < 0 ? rest : rest.slice(0, delimiter);
  if (authority.includes("@")) return authority.lastIndexOf("@");
  const at = rest.lastIndexOf("@");
  return at < 0 || /[?&][^=&#@]*=[^&#]*$/.test(rest.slice(0, at)) ? -1 : at;
}

/** Splits the credentials off `rest` (the URL after `scheme://`, query included); `hosts` is what follows. */
function splitUserinfo(url: string, rest: string): { credentials: Credentials; hosts: string } {
  const at = userinfoEnd(rest);
  if (at < 0) return { credentials: {}, hosts: rest };
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(":");
  const decode = decoder(url, "the credentials are");
  const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? undefined : decode(userinfo.slice(colon + 1));
  const credentials: Credentials = {
    ...(username === "" ? {} : { username }),
    ...(password === undefined || password === "" ? {} : { password }),
  };
  return { credentials, hosts: rest.slice(at + 1) };
}

function parseNode(url: string, text: string, defaultPort = DEFAULT_PORT): RedisNode {
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d+))?$/i.exec(text);
  const plain = /^([^:/?#[\]@,\s]+)(?::(\d+))?$/.exec(text);
  const found = bracketed ?? plain;
  if (found === null || found[1] === undefined) throw invalid(url, `"${text}" is not host[:port]`);
  const port = found[2] === undefined ? defaultPort : Number(found[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw invalid(url, `port ${found[2]} is out of range`);
  return { host: found[1], port };
}

function parseStandalone(url: string, rest: string, tls: boolean): RedisTarget {
  const split = splitUserinfo(url, rest);
  const { credentials } = split;
  const hosts = split.hosts.replace(/[?#].*$/, "");
  const slash = hosts.indexOf("/");
  const authority = slash < 0 ? hosts : hosts.slice(0, slash);
  const path = slash < 0 ? "" : hosts.slice(slash + 1);
  if (authority === "") throw invalid(url, "the host is missing");
  if (authority.includes(",")) {
    throw invalid(url, "several hosts need the redis+cluster:// or redis+sentinel:// scheme");
  }
  let db = 0;
  if (path !== "") {
    if (!/^\d{1,5}$/.test(path)) throw invalid(url, `the database "/${path}" is not a number`);
    db = Number(path);
  }
  return { kind: "standalone", node: parseNode(url, authority), db, tls, ...credentials };
}

function parseCluster(url: string, rest: string, tls: boolean): RedisTarget {
  const split = splitUserinfo(url, rest);
  const { credentials } = split;
  const hosts = split.hosts.replace(/[?#].*$/, "").replace(/\/$/, "");
  if (hosts.includes("/")) throw invalid(url, "Redis Cluster has no databases: remove the /db path");
  const parts = hosts.split(",").filter((part) => part !== "");
  if (parts.length === 0) throw invalid(url, "no host:port is listed");
  return { kind: "cluster", nodes: parts.map((part) => parseNode(url, part)), tls, ...credentials };
}

/**
 * `redis+sentinel://[user:pass@]s1:26379,s2:26379/primary-name[/db][?sentinelUsername=…&sentinelPassword=…]`:
 * the sentinels (default port 26379) are asked for the primary's address; the userinfo authenticates
 * to the data nodes, the query parameters to the sentinels. Unknown parameters are refused, so a
 * misspelt one is not silently ignored.
 */
function parseSentinel(url: string, rest: string, tls: boolean): SentinelTarget {
  const split = splitUserinfo(url, rest);
  const { credentials } = split;
  const hash = split.hosts.indexOf("#");
  const withoutHash = hash < 0 ? split.hosts : split.hosts.slice(0, hash);
  const question = withoutHash.indexOf("?");
  const query = question < 0 ? "" : withoutHash.slice(question + 1);
  const hosts = question < 0 ? withoutHash : withoutHash.slice(0, question);
  const [authority = "", name = "", db, ...extra] = hosts.split("/");
  const parts = authority.split(",").filter((part) => part !== "");
  if (parts.length === 0) throw invalid(url, "no sentinel host:port is listed");
  const primaryName = decoder(url, "the primary name is")(name);
  if (primaryName === "" || /[\s/]/.test(primaryName)) {
    throw invalid(url, "the primary name is missing: add /primary-name (as in `sentinel monitor <name>`)");
  }
  if (extra.length > 0 || (db !== undefined && db !== "" && !/^\d{1,5}$/.test(db))) {
    throw invalid(url, `the database "/${[db, ...extra].join("/")}" is not a number`);
  }
  return {
    kind: "sentinel",
    sentinels: parts.map((part) => parseNode(url, part, DEFAULT_SENTINEL_PORT)),
    primaryName,
    db: db === undefined || db === "" ? 0 : Number(db),
    tls,
    ...credentials,
    ...sentinelCredentials(url, query),
  };
}

function sentinelCredentials(
  url: string,
  query: string,
): { sentinelUsername?: string; sentinelPassword?: string } {
  const found: { sentinelUsername?: string; sentinelPassword?: string } = {};
  const decode = decoder(url, "a query parameter");
  for (const pair of query.split("&").filter((part) => part !== "")) {
    const equals = pair.indexOf("=");
    const name = decode(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? "" : decode(pair.slice(equals + 1).replace(/\+/g, " "));
    if (!(SENTINEL_PARAMETERS as readonly string[]).includes(name)) {
      throw invalid(url, `unknown parameter "${name}" (known: ${SENTINEL_PARAMETERS.join(", ")})`);
    }
    if (value !== "") found[name as (typeof SENTINEL_PARAMETERS)[number]] = value;
  }
  return found;
}

/**
 * The URL with every secret replaced by `***`, safe for logs and errors: the password in the
 * userinfo, the value of every query parameter but `sentinelUsername` (`sentinelPassword`, however
 * spelt or encoded, and whatever a user put there by mistake) and the fragment.
 */
export function redactRedisUrl(url: string): string {
  const scheme = /^[a-z+]+:\/\//i.exec(url)?.[0] ?? "";
  const rest = url.slice(scheme.length);
  const at = userinfoEnd(rest);
  const userinfo = at < 0 ? "" : rest.slice(0, at);
  const colon = userinfo.indexOf(":");
  const redactedUserinfo = at < 0 ? "" : `${colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`}@`;
  const tail = rest
    .slice(at + 1)
    .replace(/#.*$/, "#***")
    .replace(/([?&])([^=&#]*)=([^&#]*)/g, (all, separator: string, name: string) =>
      safeDecode(name) === "sentinelUsername" ? all : `${separator}${name}=***`,
    );
  return `${scheme}${redactedUserinfo}${tail}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
