import { createHash } from "node:crypto";
import type { VaryValue } from "../http-cache/entry.js";
import { type Headers, joinedValue } from "../http-cache/headers.js";
import { formatQuery, type QueryPairs } from "./query.js";

/**
 * The logical cache key of a request (the store adds its key prefix). Pure.
 *
 *   GET|https|api.example.test||/api/v2/barbers/42/slots?date=2026-01-01|accept-language=de|public
 *
 * Parts: method class (GET and HEAD share entries), scheme and forwarded host (as the fill tells them
 * to the upstream: a force-HTTPS app answers http with a redirect, absolute links carry the host; the
 * forwarded host is empty when it is the Host), host, normalized path with the route's declared query
 * params in canonical order, the route's key headers (declared, plus Accept and Accept-Language, which
 * every fill sends), and the scope: `public`, or `user:` plus the identity hash on PerUser routes
 * (`anon` without identity). Keys longer than MAX_KEY_LENGTH are replaced by a hash so a huge request
 * cannot make a huge key. A response's Vary on other fields adds a secondary key (`variantKey`).
 *
 * `|` separates the parts, so no part may carry a raw `|` that could shift the boundaries: the path
 * cannot (the last three parts never contain one, so the path is what lies between the forwarded host
 * and them), and the hosts — client-controlled — have `%` and `|` percent-encoded. Key headers that
 * carry credentials (Authorization, Cookie, spec.identity headers) enter the key as a hash only.
 */
export const MAX_KEY_LENGTH = 512;

export interface KeyParts {
  readonly method: string;
  /** The scheme the fill tells the upstream (X-Forwarded-Proto). */
  readonly scheme: string;
  readonly host: string;
  /** The host the fill tells the upstream (X-Forwarded-Host); keyed when it differs from `host`. */
  readonly forwardedHost?: string;
  readonly path: string;
  readonly query: QueryPairs;
  /** The route's key headers (lowercase, sorted) and the request's headers. */
  readonly keyHeaders: readonly string[];
  readonly headers: Headers;
  readonly scope: "Public" | "PerUser";
  readonly identityHash?: string | undefined;
  /** Identifying header names (lowercase); a declared key header among them is hashed, as is Cookie. */
  readonly identityHeaders?: readonly string[];
}

export function cacheKey(parts: KeyParts): string {
  const query = formatQuery(parts.query);
  const host = normalizeHost(parts.host);
  const forwardedHost = parts.forwardedHost === undefined ? host : normalizeHost(parts.forwardedHost);
  let key = `${methodClass(parts.method)}|${parts.scheme}|${host}|${forwardedHost === host ? "" : forwardedHost}|`;
  key += `${parts.path}${query ? `?${query}` : ""}|`;
  for (let i = 0; i < parts.keyHeaders.length; i++) {
    const name = parts.keyHeaders[i] as string;
    if (i > 0) key += "&";
    const value = joinedValue(parts.headers[name]);
    // Absent (`~`) is not empty (`=`): a fill sends an empty field, and an upstream may tell them apart.
    key += value === undefined ? `${name}~` : `${name}=${keyValue(name, value, parts.identityHeaders)}`;
  }
  key += parts.scope === "Public" ? "|public" : `|user:${parts.identityHash ?? "anon"}`;
  return boundKey(key);
}

/**
 * The secondary key of a variant (RFC 9111 §4.1): the primary key plus the request's values of the
 * fields the response's Vary names (absent: `~`), so each variant has its own entry.
 */
export function variantKey(
  key: string,
  vary: readonly VaryValue[],
  identityHeaders?: readonly string[],
): string {
  let out = `${key}|vary:`;
  for (let i = 0; i < vary.length; i++) {
    const [name, value] = vary[i] as VaryValue;
    if (i > 0) out += "&";
    out += `${name}${value === null ? "~" : `=${keyValue(name, value, identityHeaders)}`}`;
  }
  return boundKey(out);
}

/** A header's value in a key: credentials as a hash only, anything else percent-encoded. */
function keyValue(name: string, value: string, identityHeaders: readonly string[] | undefined): string {
  const secret = value !== "" && (name === "cookie" || identityHeaders?.includes(name) === true);
  return secret ? `sha256:${sha256(value)}` : encodeURIComponent(value);
}

/** Keeps short keys readable and replaces long ones by a hash of the whole key. */
export function boundKey(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `sha256:${sha256(key)}`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

/**
 * The key mode Shadow stores an entry under (proxy/shadow.ts, warming): a separate key space, so an
 * Enforce switch never serves an entry Shadow fetched with a client's unfiltered request. Admin
 * invalidation by key drops both spellings.
 */
export function shadowKey(key: string): string {
  return `shadow|${key}`;
}

export function methodClass(method: string): string {
  return method === "HEAD" ? "GET" : method;
}

/** Lowercase, with `%` and the key separator `|` percent-encoded (a Host header is client input). */
export function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase();
  if (!lower.includes("|") && !lower.includes("%")) return lower;
  return lower.replaceAll("%", "%25").replaceAll("|", "%7C");
}

/**
 * The tag every entry carries for its normalized path, so the target URI of a write (RFC 9111 §4.4) and
 * admin `paths` invalidate every variant (query, headers, scope, host) of that path. The path is folded
 * to lowercase without a trailing slash, so a write spelled `/API/items/1/` — which a lenient router
 * (Express's default) applies to `/api/items/1` — drops it: over-invalidating a spelling the app may
 * treat as another resource is safe, missing the one it treats as the same is not. `~` cannot appear in
 * a policy tag, so it never collides with one.
 */
export function pathTag(path: string): string {
  const lower = path.toLowerCase();
  return `~path:${lower.length > 1 && lower.endsWith("/") ? lower.slice(0, -1) : lower}`;
}
