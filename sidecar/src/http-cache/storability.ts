import type { CacheControl } from "./cache-control.js";
import type { NotStoredReason } from "./cache-outcome.js";
import { firstValue, type Headers } from "./headers.js";
import { parseHttpDate } from "./http-date.js";
import { type ResponseCacheControl, responseCacheControl } from "./targeted.js";
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
  const control = responseCacheControl(headers);
  const { cc } = control;
  const vary = varyNames(headers.vary);
  const explicit = explicitLifetimeMs(input, control);
  const refused = refusal(input, cc, vary, explicit !== undefined);
  if (refused) return no(refused);

  const initialAgeSeconds = initialAge(headers.age);
  let freshMs = rules.ttlFrom === "Upstream" ? (explicit ?? rules.ttlMs) : rules.ttlMs;
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
  explicitFreshness: boolean,
): NotStoredReason | undefined {
  const { rules, status, headers } = input;
  // 206 needs range-aware storage and 304 is an answer to one conditional request, not a
  // representation: neither is ever stored, whatever cacheableStatuses lists. Under ttlFrom Upstream,
  // a final status outside cacheableStatuses is stored when the response gives it an explicit
  // freshness lifetime (§3: "contains ... a max-age, s-maxage or Expires"), e.g. a 302 with max-age.
  if (status === 206 || status === 304 || status < 200) return "status";
  const listed = rules.cacheableStatuses.has(status);
  if (!listed && !(rules.ttlFrom === "Upstream" && explicitFreshness)) return "status";
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

/**
 * The explicit freshness lifetime (§4.2.1): s-maxage, then max-age, then Expires − Date (Expires only
 * from Cache-Control's world: a targeted field replaces both). Undefined when the response gives none
 * (the policy's ttl then applies). Invalid values never fall through to a longer lifetime: an invalid
 * max-age reads as 0 (cache-control.ts), and an invalid Expires — not an HTTP-date, or repeated —
 * means already expired (§5.3).
 */
function explicitLifetimeMs(input: StorabilityInput, control: ResponseCacheControl): number | undefined {
  const { cc, field } = control;
  const seconds = cc.sMaxAge ?? cc.maxAge;
  if (seconds !== undefined) return seconds * 1000;
  const expires = input.headers.expires;
  if (field !== "cache-control" || expires === undefined) return undefined;
  if (typeof expires !== "string" && expires.length !== 1) return 0;
  const expiresAt = parseHttpDate(firstValue(expires), input.now);
  if (expiresAt === undefined) return 0;
  const date = parseHttpDate(firstValue(input.headers.date), input.now);
  return expiresAt - (date ?? input.now);
}

function windowMs(directiveSeconds: number | undefined, policyMs: number): number {
  return directiveSeconds === undefined ? policyMs : directiveSeconds * 1000;
}

/**
 * The upstream's Age (§5.1): non-negative integer seconds; anything else is ignored. Repeated (as lines
 * or as a list) it is not valid either, and the first value is used (§4.2.1: "the first occurrence").
 */
function initialAge(value: Headers[string]): number {
  const text = firstValue(value)?.split(",")[0]?.trim();
  if (text === undefined || !/^[0-9]+$/.test(text)) return 0;
  return Math.min(Number(text), 2 ** 31);
}
