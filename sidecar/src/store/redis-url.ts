import { StoreError } from "./errors.js";

/**
 * Pure parsing of the `--redis` URL (contract: `redis://host:port[/db]`, `rediss://…`, or
 * `redis+cluster://host:port,host:port,…`; `rediss+cluster://` adds TLS). Credentials may sit in the
 * userinfo part (`redis://user:pass@host:port`); `redactRedisUrl` hides them for logs.
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
  | ({ readonly kind: "cluster"; readonly nodes: readonly RedisNode[]; readonly tls: boolean } & Credentials);

const DEFAULT_PORT = 6379;

function invalid(url: string, problem: string): StoreError {
  return new StoreError(
    "APICACHE_ERR_STORE_URL_INVALID",
    `Redis URL "${redactRedisUrl(url)}" is invalid: ${problem}. Use redis://host:port[/db], rediss://host:port[/db] ` +
      "or redis+cluster://host:port,host:port,… (credentials as user:password@ before the hosts).",
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
    default:
      throw invalid(url, `unknown scheme "${scheme}"`);
  }
}

function splitUserinfo(url: string, rest: string): { credentials: Credentials; hosts: string } {
  const at = rest.lastIndexOf("@");
  if (at < 0) return { credentials: {}, hosts: rest };
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(":");
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw invalid(url, "the credentials are not valid percent-encoding");
    }
  };
  const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? undefined : decode(userinfo.slice(colon + 1));
  const credentials: Credentials = {
    ...(username === "" ? {} : { username }),
    ...(password === undefined || password === "" ? {} : { password }),
  };
  return { credentials, hosts: rest.slice(at + 1) };
}

function parseNode(url: string, text: string): RedisNode {
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d+))?$/i.exec(text);
  const plain = /^([^:/?#[\]@,\s]+)(?::(\d+))?$/.exec(text);
  const found = bracketed ?? plain;
  if (found === null || found[1] === undefined) throw invalid(url, `"${text}" is not host[:port]`);
  const port = found[2] === undefined ? DEFAULT_PORT : Number(found[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw invalid(url, `port ${found[2]} is out of range`);
  return { host: found[1], port };
}

function parseStandalone(url: string, rest: string, tls: boolean): RedisTarget {
  const { credentials, hosts } = splitUserinfo(url, rest.replace(/[?#].*$/, ""));
  const slash = hosts.indexOf("/");
  const authority = slash < 0 ? hosts : hosts.slice(0, slash);
  const path = slash < 0 ? "" : hosts.slice(slash + 1);
  if (authority === "") throw invalid(url, "the host is missing");
  if (authority.includes(",")) throw invalid(url, "several hosts need the redis+cluster:// scheme");
  let db = 0;
  if (path !== "") {
    if (!/^\d{1,5}$/.test(path)) throw invalid(url, `the database "/${path}" is not a number`);
    db = Number(path);
  }
  return { kind: "standalone", node: parseNode(url, authority), db, tls, ...credentials };
}

function parseCluster(url: string, rest: string, tls: boolean): RedisTarget {
  const { credentials, hosts } = splitUserinfo(url, rest.replace(/[?#].*$/, "").replace(/\/$/, ""));
  if (hosts.includes("/")) throw invalid(url, "Redis Cluster has no databases: remove the /db path");
  const parts = hosts.split(",").filter((part) => part !== "");
  if (parts.length === 0) throw invalid(url, "no host:port is listed");
  return { kind: "cluster", nodes: parts.map((part) => parseNode(url, part)), tls, ...credentials };
}

/** The URL with any password replaced by `***`, safe for logs and error messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)(.*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}
