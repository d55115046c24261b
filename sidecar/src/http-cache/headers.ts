/**
 * Header helpers shared by the pure core and the proxy. Header names are lowercase (node:http and
 * undici both deliver them so). Pure.
 */
export type HeaderValue = string | readonly string[] | undefined;
export type Headers = Readonly<Record<string, HeaderValue>>;

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) are meaningful for one connection only and never forwarded or
 * stored; nor are the fields the `Connection` header names.
 * https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
  // Not hop-by-hop, but a proxy must not forward it: 100-continue is handled by node:http itself.
  "expect",
  // HTTP/2 pseudo-headers never appear on HTTP/1.1 but must never be forwarded if they do.
  "http2-settings",
]);

/** The first value of a header, or undefined. */
export function firstValue(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value[0];
}

/**
 * A field's value by a name from the wire (a Vary list, a policy): own properties only, so a name such
 * as `constructor` or `__proto__` reads as absent, never as Object's.
 */
export function fieldValue(headers: Headers, name: string): HeaderValue {
  return Object.hasOwn(headers, name) ? headers[name] : undefined;
}

/** All values joined by ", " (for list-valued fields). */
export function joinedValue(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value.join(", ");
}

/** Field names listed in a Connection header (lowercase). */
export function connectionTokens(value: HeaderValue): ReadonlySet<string> {
  const joined = joinedValue(value);
  if (!joined) return EMPTY_SET;
  return new Set(
    joined
      .split(",")
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}
const EMPTY_SET: ReadonlySet<string> = new Set();

/** Whether a field is hop-by-hop for this message. */
export function isHopByHop(name: string, connection: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || connection.has(name);
}

/**
 * Flattens a header object to `[name, value, name, value, …]` (what `res.writeHead` accepts), leaving
 * out hop-by-hop fields and any in `omit`.
 */
export function flattenHeaders(headers: Headers, omit: ReadonlySet<string> = EMPTY_SET): string[] {
  const connection = connectionTokens(headers.connection);
  const flat: string[] = [];
  for (const name in headers) {
    if (isHopByHop(name, connection) || omit.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === "string") flat.push(name, value);
    else for (const item of value) flat.push(name, item);
  }
  return flat;
}

/** The fields of a flat header array whose name `keep` accepts, in order. */
export function filterFlat(flat: readonly string[], keep: (name: string) => boolean): string[] {
  const kept: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    if (keep(name)) kept.push(name, flat[i + 1] as string);
  }
  return kept;
}

/** A flat header array as a header object (repeated fields as arrays): flattenHeaders' inverse. */
export function headersFromFlat(flat: readonly string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    const value = flat[i + 1] as string;
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else headers[name] = typeof existing === "string" ? [existing, value] : [...existing, value];
  }
  return headers;
}

/** The value of `name` in a flat header array (first occurrence). */
export function flatHeaderValue(flat: readonly string[], name: string): string | undefined {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}
