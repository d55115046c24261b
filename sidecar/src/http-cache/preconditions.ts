import type { CacheEntry } from "./entry.js";
import { firstValue, flatHeaderValue, type Headers } from "./headers.js";

/**
 * A client's own validation request answered from a stored response (RFC 9111 §4.3.2, RFC 9110
 * §13.2.2): only `If-None-Match` and, without it, `If-Modified-Since` apply to a cache, and only to a
 * stored 200 served to a GET or HEAD. Pure.
 * https://www.rfc-editor.org/rfc/rfc9111#section-4.3.2
 */
export function answersNotModified(
  method: string,
  request: Headers,
  entry: Pick<CacheEntry, "status" | "headers" | "storedAt">,
): boolean {
  if (entry.status !== 200 || (method !== "GET" && method !== "HEAD")) return false;
  const noneMatch = firstValue(request["if-none-match"]);
  if (noneMatch !== undefined) return etagListMatches(noneMatch, flatHeaderValue(entry.headers, "etag"));
  const since = httpDate(firstValue(request["if-modified-since"]));
  if (since === undefined) return false;
  return lastModified(entry) <= since;
}

/** Weak comparison (RFC 9110 §8.8.3.2) of an If-None-Match list with the stored ETag; `*` matches any. */
function etagListMatches(list: string, etag: string | undefined): boolean {
  if (etag === undefined) return false;
  if (list.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return list.split(",").some((tag) => opaque(tag) === opaque(etag));
}

/**
 * The stored response's modification time for If-Modified-Since: its Last-Modified, else its Date,
 * else when the cache stored it (RFC 9111 §4.3.2, the three cases), in ms.
 */
function lastModified(entry: Pick<CacheEntry, "headers" | "storedAt">): number {
  return (
    httpDate(flatHeaderValue(entry.headers, "last-modified")) ??
    httpDate(flatHeaderValue(entry.headers, "date")) ??
    entry.storedAt
  );
}

/** An HTTP-date in ms, or undefined when absent or invalid (an invalid date is ignored, §13.1.3). */
function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
