import { type CacheControl, parseCacheControl } from "./cache-control.js";
import type { NotStoredReason } from "./cache-outcome.js";
import { firstValue, type Headers } from "./headers.js";
import { varyNames } from "./vary.js";

/**
 * May a shared cache store this response, and for how long (RFC 9111 §3, §4.2.1)? Pure.
 * https://www.rfc-editor.org/rfc/rfc9111#section-3
 */

/** A route's effective caching settings, in milliseconds and bytes. */
export interface CacheRules {
  readonly ttlMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  readonly maxBodyBytes: number;
  readonly ttlFrom: "Policy" | "Upstream";
  readonly cacheableStatuses: ReadonlySet<number>;
  readonly negativeTtlMs: number;
  readonly scope: "Public" | "PerUser";
}

export interface StorabilityInput {
  readonly rules: CacheRules;
  readonly status: number;
  readonly headers: Headers;
  /** The request carried Authorization (RFC 9111 §3.5). */
  readonly requestAuthorized: boolean;
  readonly now: number;
}

export type Storability =
  | {
      readonly storable: true;
      readonly freshMs: number;
      readonly staleWhileRevalidateMs: number;
      readonly staleIfErrorMs: number;
      readonly initialAgeSeconds: number;
      readonly varyNames: readonly string[];
    }
  | { readonly storable: false; readonly reason: NotStoredReason };

export function storability(input: StorabilityInput): Storability {
  const { rules, status, headers } = input;
  const cc = parseCacheControl(headers["cache-control"]);
  const vary = varyNames(headers.vary);
  const refused = refusal(input, cc, vary);
  if (refused) return no(refused);

  const initialAgeSeconds = ageHeader(headers.age);
  let freshMs = lifetimeMs(input, cc.sMaxAge ?? cc.maxAge);
  if (rules.ttlFrom === "Upstream") freshMs -= initialAgeSeconds * 1000;
  if (status >= 400) freshMs = Math.min(freshMs, rules.negativeTtlMs);
  if (freshMs <= 0) return no("zero-ttl");

  const revalidate = cc.mustRevalidate || cc.proxyRevalidate; // §4.2.4: never serve stale
  const upstream = rules.ttlFrom === "Upstream";
  const swr = windowMs(upstream ? cc.staleWhileRevalidate : undefined, rules.staleWhileRevalidateMs);
  const sie = windowMs(upstream ? cc.staleIfError : undefined, rules.staleIfErrorMs);
  return {
    storable: true,
    freshMs,
    staleWhileRevalidateMs: revalidate ? 0 : swr,
    staleIfErrorMs: revalidate ? 0 : sie,
    initialAgeSeconds,
    varyNames: vary,
  };
}

/** The first reason a shared cache must not store the response, if any. */
function refusal(
  input: StorabilityInput,
  cc: CacheControl,
  vary: readonly string[],
): NotStoredReason | undefined {
  const { rules, status, headers } = input;
  // 206 needs range-aware storage and 304 is an answer to one conditional request, not a
  // representation: neither is ever stored, whatever cacheableStatuses lists.
  if (status === 206 || status === 304 || !rules.cacheableStatuses.has(status)) return "status";
  if (cc.noStore) return "no-store"; // §5.2.2.5
  if (cc.private) return "private"; // §5.2.2.7: a shared cache MUST NOT store
  if (cc.noCache) return "no-cache"; // §5.2.2.4: would need validation on every use
  if (headers["set-cookie"] !== undefined) return "set-cookie"; // per-user state; never shared
  if (vary[0] === "*") return "vary-star"; // §4.1: never matches
  // §3.5: a response to an authorized request is shareable only when the response says so — PerUser
  // routes key on the credential's hash, so their entries are never shared across users.
  const allowed = cc.public || cc.mustRevalidate || cc.sMaxAge !== undefined;
  if (input.requestAuthorized && rules.scope === "Public" && !allowed) return "authorization";
  const length = Number(firstValue(headers["content-length"]));
  if (Number.isFinite(length) && length > rules.maxBodyBytes) return "body-too-large";
  return undefined;
}

function no(reason: NotStoredReason): Storability {
  return { storable: false, reason };
}

/** §4.2.1: s-maxage, then max-age, then Expires − Date; the policy's ttl otherwise. */
function lifetimeMs(input: StorabilityInput, maxAgeSeconds: number | undefined): number {
  const { rules, headers } = input;
  if (rules.ttlFrom === "Policy") return rules.ttlMs;
  if (maxAgeSeconds !== undefined) return maxAgeSeconds * 1000;
  const expires = firstValue(headers.expires);
  if (expires !== undefined) {
    const expiresAt = Date.parse(expires);
    // §5.3: an invalid Expires (e.g. "0") means already expired.
    if (Number.isNaN(expiresAt)) return 0;
    const date = Date.parse(firstValue(headers.date) ?? "");
    return expiresAt - (Number.isNaN(date) ? input.now : date);
  }
  return rules.ttlMs;
}

function windowMs(directiveSeconds: number | undefined, policyMs: number): number {
  return directiveSeconds === undefined ? policyMs : directiveSeconds * 1000;
}

function ageHeader(value: Headers[string]): number {
  const text = firstValue(value);
  if (text === undefined || !/^[0-9]+$/.test(text)) return 0;
  return Math.min(Number(text), 2 ** 31);
}
