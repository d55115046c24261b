import type { CacheEntry } from "./entry.js";
import { flatHeaderValue } from "./headers.js";

/**
 * Freshness and age of a stored entry (RFC 9111 §4.2). Pure; `now` is passed in (ms).
 * https://www.rfc-editor.org/rfc/rfc9111#section-4.2
 *
 * An entry's lifetime is measured from when this cache stored it: `freshMs` is how long it stays fresh
 * from then (the upstream's Age is already subtracted when ttlFrom is Upstream), followed by the
 * stale-while-revalidate and stale-if-error windows (both measured from the end of freshness).
 */
export type EntryState = "fresh" | "stale-while-revalidate" | "stale-if-error" | "expired";

/** Milliseconds since this cache stored the entry. */
export function residentMs(entry: CacheEntry, now: number): number {
  return Math.max(0, now - entry.storedAt);
}

export function entryState(entry: CacheEntry, now: number): EntryState {
  const resident = residentMs(entry, now);
  if (resident < entry.freshMs) return "fresh";
  const staleFor = resident - entry.freshMs;
  if (staleFor < entry.staleWhileRevalidateMs) return "stale-while-revalidate";
  if (staleFor < entry.staleIfErrorMs) return "stale-if-error";
  return "expired";
}

/** Whether a stale entry may still be served because the upstream failed (RFC 5861 §4). */
export function usableOnError(entry: CacheEntry, now: number): boolean {
  const state = entryState(entry, now);
  if (state === "fresh") return true;
  return residentMs(entry, now) - entry.freshMs < entry.staleIfErrorMs;
}

/** The `Age` header value (RFC 9111 §5.1): whole seconds, upstream age included. */
export function ageSeconds(entry: CacheEntry, now: number): number {
  return Math.floor(residentMs(entry, now) / 1000) + entry.initialAgeSeconds;
}

/** Remaining freshness in whole seconds, negative once stale (Cache-Status `ttl`, RFC 9211 §2.5). */
export function ttlSeconds(entry: CacheEntry, now: number): number {
  const remaining = entry.freshMs - residentMs(entry, now);
  return remaining >= 0 ? Math.floor(remaining / 1000) : -Math.ceil(-remaining / 1000);
}

/**
 * How long an entry with a validator (ETag or Last-Modified) is kept past its freshness, so that the
 * next request revalidates it with a conditional request (RFC 9111 §4.3.1) instead of fetching the body
 * again: as long as it was fresh, at least a minute, at most a day. Whatever staleIfError says: the
 * stale entry is only ever used after the upstream confirms it (304), never served unconfirmed.
 */
export const REVALIDATION_RETENTION = { minMs: 60_000, maxMs: 24 * 60 * 60_000 } as const;

/**
 * How long the store should keep the entry: freshness plus the longest of the stale-while-revalidate
 * window, the stale-if-error window and (with a validator) the revalidation retention.
 */
export function storeLifetimeMs(
  entry: Pick<CacheEntry, "status" | "headers" | "freshMs" | "staleWhileRevalidateMs" | "staleIfErrorMs">,
): number {
  const stale = Math.max(entry.staleWhileRevalidateMs, entry.staleIfErrorMs);
  return entry.freshMs + Math.max(stale, revalidationRetentionMs(entry));
}

function revalidationRetentionMs(entry: Pick<CacheEntry, "status" | "headers" | "freshMs">): number {
  if (entry.status !== 200) return 0; // only a stored 200 is revalidated (revalidation.ts)
  const validator =
    flatHeaderValue(entry.headers, "etag") !== undefined ||
    flatHeaderValue(entry.headers, "last-modified") !== undefined;
  if (!validator) return 0;
  const { minMs, maxMs } = REVALIDATION_RETENTION;
  return Math.min(maxMs, Math.max(minMs, entry.freshMs));
}
