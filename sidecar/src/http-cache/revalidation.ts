import {
  filterFlat,
  firstValue,
  flatHeaderValue,
  flattenHeaders,
  type Headers,
  headersFromFlat,
} from "./headers.js";

/**
 * Revalidating a stored response with the upstream (RFC 9111 §4.3): the validators a cache sends, and
 * how a 304 freshens the stored response's header fields (§3.2, §4.3.4). Pure.
 * https://www.rfc-editor.org/rfc/rfc9111#section-4.3
 */

/**
 * Precondition fields for a conditional fill of a stored 200 response: If-None-Match from its ETag,
 * If-Modified-Since from its Last-Modified (the upstream gives If-None-Match precedence). Empty when
 * it has no validator: then the fill is an ordinary request.
 */
export function validatorsOf(stored: {
  readonly status: number;
  readonly headers: readonly string[];
}): Record<string, string> {
  if (stored.status !== 200) return {};
  const out: Record<string, string> = {};
  const etag = flatHeaderValue(stored.headers, "etag");
  const lastModified = flatHeaderValue(stored.headers, "last-modified");
  if (etag !== undefined) out["if-none-match"] = etag;
  if (lastModified !== undefined) out["if-modified-since"] = lastModified;
  return out;
}

/**
 * Whether a 304 selects the stored response (RFC 9111 §4.3.4): its ETag, when it has one, is the
 * stored one (exactly); otherwise its Last-Modified, when it has one, is the stored one. An upstream
 * that answered on If-Modified-Since alone may return a 304 carrying a newer ETag: that 304 is about
 * another representation and must not relabel the stored body. A 304 that sets a cookie is not used
 * either (the cookie is for the client; the full response carries it).
 */
export function selectsStored(stored: readonly string[], update: Headers): boolean {
  if (update["set-cookie"] !== undefined) return false;
  const etag = firstValue(update.etag);
  if (etag !== undefined) return etag === flatHeaderValue(stored, "etag");
  const modified = firstValue(update["last-modified"]);
  if (modified === undefined) return true;
  const storedModified = flatHeaderValue(stored, "last-modified");
  return storedModified !== undefined && Date.parse(storedModified) === Date.parse(modified);
}

/**
 * Fields of a 304 that never replace the stored ones: the body's own framing and coding (the 304 has
 * no body; the stored one is kept), fields the cache recomputes per response, and Set-Cookie (never
 * stored in a shared entry).
 */
const KEPT_FROM_STORED: ReadonlySet<string> = new Set([
  "content-length",
  "content-encoding",
  "content-range",
  "content-type",
  "age",
  "cache-status",
  "set-cookie",
]);

/**
 * The stored response's fields updated with a 304's (RFC 9111 §3.2): each field the 304 carries
 * replaces every stored value of that name, except hop-by-hop fields and those in KEPT_FROM_STORED.
 */
export function freshenedHeaders(
  stored: readonly string[],
  update: Headers,
): Record<string, string | string[]> {
  const fresh = flattenHeaders(update, KEPT_FROM_STORED); // hop-by-hop fields left out too
  const replaced = new Set(fresh.filter((_, i) => i % 2 === 0));
  return headersFromFlat([...filterFlat(stored, (name) => !replaced.has(name)), ...fresh]);
}
