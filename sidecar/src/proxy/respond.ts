import type { IncomingMessage, ServerResponse } from "node:http";
import { ERROR_CODES } from "../errors.js";
import type { UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import { type CacheOutcome, cacheStatus } from "../http-cache/cache-outcome.js";
import type { CacheEntry } from "../http-cache/entry.js";
import { ageSeconds } from "../http-cache/freshness.js";
import {
  connectionTokens,
  filterFlat,
  firstValue,
  flatHeaderValue,
  flattenHeaders,
  type Headers,
  isHopByHop,
} from "../http-cache/headers.js";
import { answersNotModified } from "../http-cache/preconditions.js";

/** Writing answers to the client: stored entries, upstream heads, and the sidecar's own errors. */

const NO_BODY_STATUS = new Set([204, 304]);
const OMIT_FROM_UPSTREAM: ReadonlySet<string> = new Set(["cache-status"]);

/**
 * Writes a stored entry (a hit, or a fill's result). A client's `If-None-Match` / `If-Modified-Since`
 * that the entry satisfies gets a 304 (preconditions.ts).
 */
export function writeEntry(
  { req, res }: { readonly req: IncomingMessage; readonly res: ServerResponse },
  entry: CacheEntry,
  outcome: CacheOutcome,
  now: number,
): number {
  const status = answersNotModified(req.method ?? "GET", req.headers, entry) ? 304 : entry.status;
  const stored =
    status === 304 ? filterFlat(entry.headers, (name) => NOT_MODIFIED_FIELDS.has(name)) : entry.headers;
  // An entry that was not stored carries the upstream's own Age, forwarded unchanged (fill.ts).
  const age =
    flatHeaderValue(entry.headers, "age") === undefined ? ["age", String(ageSeconds(entry, now))] : [];
  const headers = stored.concat(age, "cache-status", cacheStatus(outcome));
  if (NO_BODY_STATUS.has(status)) {
    res.writeHead(status, headers);
    res.end();
    return status;
  }
  headers.push("content-length", String(entry.body.length));
  res.writeHead(status, headers);
  res.end(req.method === "HEAD" ? undefined : entry.body);
  return status;
}

/**
 * The stored fields a 304 carries (RFC 9110 §15.4.5): those that would be sent in a 200 and guide
 * caches — not the representation's metadata (Content-Type, Content-Encoding…).
 */
const NOT_MODIFIED_FIELDS: ReadonlySet<string> = new Set([
  "cache-control",
  "content-location",
  "date",
  "etag",
  "expires",
  "vary",
  "last-modified",
]);

/** The upstream's response head as a flat array for `writeHead`, plus our Cache-Status. */
export function upstreamHead(headers: Headers, outcome: CacheOutcome): string[] {
  const flat = flattenHeaders(headers, OMIT_FROM_UPSTREAM);
  flat.push("cache-status", cacheStatus(outcome));
  return flat;
}

/** 502 (504 on timeout) when the upstream failed and nothing stale could be served. */
export function writeUpstreamError(
  res: ServerResponse,
  reason: UpstreamErrorReason,
  outcome: CacheOutcome,
): number {
  const status = reason === "timeout" ? 504 : reason === "busy" ? 503 : 502;
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  // Refused: nothing listens upstream (the app exited, e.g. in a rolling restart while this
  // container still runs). Close the connection, so the client's next request goes through the
  // Service to a live pod instead of coming back here on its kept-alive connection.
  if (reason === "refused") res.shouldKeepAlive = false;
  const code = UPSTREAM_CODES[reason];
  const body = JSON.stringify({
    error: code,
    message:
      reason === "busy"
        ? "every upstream connection for this kind of request stayed busy past the queue deadline, and no stored response could be served instead; retry"
        : `the upstream application failed (${reason}) and no stored response could be served instead`,
  });
  res.writeHead(status, [
    "content-type",
    "application/json",
    "content-length",
    String(Buffer.byteLength(body)),
    "cache-status",
    cacheStatus(outcome),
  ]);
  res.end(body);
  return status;
}

/** The stable error code logged for each upstream failure reason. */
export const UPSTREAM_CODES: Readonly<Record<UpstreamErrorReason, string>> = {
  timeout: ERROR_CODES.UPSTREAM_TIMEOUT,
  refused: ERROR_CODES.UPSTREAM_REFUSED,
  reset: ERROR_CODES.UPSTREAM_RESET,
  truncated: ERROR_CODES.UPSTREAM_TRUNCATED,
  status_5xx: ERROR_CODES.UPSTREAM_RESET,
  busy: ERROR_CODES.UPSTREAM_BUSY,
};

/** Request headers for a pass-through: everything end-to-end, plus X-Forwarded-For/Proto. */
export function forwardHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const source = req.headers;
  const connection = connectionTokens(source.connection);
  for (const name in source) {
    if (isHopByHop(name, connection)) continue;
    const value = source[name];
    if (value !== undefined) out[name] = value;
  }
  const client = req.socket.remoteAddress;
  if (client) {
    const previous = firstValue(source["x-forwarded-for"]);
    out["x-forwarded-for"] = previous ? `${previous}, ${client}` : client;
  }
  if (source["x-forwarded-proto"] === undefined) out["x-forwarded-proto"] = "http";
  return out;
}

/** Whether a request has a body to forward (RFC 9112 §6.3). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return length !== "0";
  return req.headers["transfer-encoding"] !== undefined;
}
