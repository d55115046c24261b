/**
 * The one description of what the cache did with a request. It renders the `Cache-Status` response
 * header (RFC 9211), labels the metrics (`outcome`) and the log line, so the three never disagree.
 *
 * Cache-Status forms (cache name `apicache`; https://www.rfc-editor.org/rfc/rfc9211#section-2):
 *   hit                     apicache; hit; ttl=42
 *   coalesced               apicache; hit; ttl=60; detail=coalesced       (waited for another request's fetch)
 *   stale-while-revalidate  apicache; hit; ttl=-3; detail=stale-while-revalidate
 *   stale-if-error          apicache; fwd=stale; fwd-status=503; ttl=-40; detail=stale-if-error
 *   miss (stored)           apicache; fwd=uri-miss; fwd-status=200; stored
 *   uncacheable             apicache; fwd=uri-miss; fwd-status=200; detail=set-cookie
 *   bypass                  apicache; fwd=bypass; fwd-status=200; detail=no-route
 *   unsafe method           apicache; fwd=method; fwd-status=201; detail=unsafe-method
 *   request no-cache        apicache; fwd=request; fwd-status=200; detail=request-no-cache
 *   error                   apicache; fwd=uri-miss; detail=upstream-timeout
 *   shadow                  apicache; fwd=bypass; fwd-status=200; detail=shadow-hit
 */

/**
 * The short form of a CacheOutcome (`outcomeLabel`): the `outcome` label of the request metrics, the
 * /stats counters and the log line; its full form is the `Cache-Status` header (`cacheStatus`).
 * Telemetry and the monitoring generator import this vocabulary from here (the core), not the reverse.
 */
export const CACHE_OUTCOMES = [
  /** Served from a fresh stored entry (or a response fetched by a coalesced request). */
  "hit",
  /** Served a stale entry while one background request refreshes it. */
  "stale-while-revalidate",
  /** The upstream failed (refused, timed out, 5xx): a stale entry was served instead. */
  "stale-if-error",
  /** Not in the cache (or too stale): fetched from the upstream and stored. */
  "miss",
  /** Fetched from the upstream on a cached route, but the response could not be stored. */
  "uncacheable",
  /** Not a cache candidate (no route, unsafe method, identifying request, mode Off…): streamed through. */
  "bypass",
  /** The upstream failed and nothing stale could be served: the client got an error. */
  "error",
  /** mode Shadow: the would-be outcome, prefixed; the answer always came from the upstream. */
  "shadow-hit",
  "shadow-stale-while-revalidate",
  "shadow-stale-if-error",
  "shadow-miss",
  "shadow-uncacheable",
  "shadow-bypass",
  "shadow-error",
] as const;
export type CacheOutcomeLabel = (typeof CACHE_OUTCOMES)[number];

/** Outcomes answered from the cache, without waiting for the upstream: the hit-ratio numerator. */
export const SERVED_FROM_CACHE_OUTCOMES = ["hit", "stale-while-revalidate", "stale-if-error"] as const;
/** Outcomes that were cache candidates: the hit-ratio denominator (bypass and shadow excluded). */
export const CACHEABLE_OUTCOMES = [
  "hit",
  "stale-while-revalidate",
  "stale-if-error",
  "miss",
  "uncacheable",
  "error",
] as const;

/** Why the upstream failed: the `reason` of upstream_errors_total and the `detail` of an error outcome. */
export const UPSTREAM_ERROR_REASONS = [
  "timeout",
  "refused",
  "reset",
  "status_5xx",
  "truncated",
  "busy",
] as const;
export type UpstreamErrorReason = (typeof UPSTREAM_ERROR_REASONS)[number];

/** Why a request was not a cache candidate. */
export type BypassReason =
  | "no-route"
  | "method-not-cached"
  | "unsafe-method"
  | "mode-off"
  | "identifying-request"
  | "request-no-cache"
  | "request-no-store"
  | "upgrade";

/** Why a response fetched for a cached route was not stored. */
export type NotStoredReason =
  | "status"
  | "no-store"
  | "private"
  | "no-cache"
  | "set-cookie"
  | "vary-star"
  | "authorization"
  | "zero-ttl"
  | "body-too-large"
  | "truncated"
  | "invalidated-during-fetch"
  | "store-error";

/** How a forwarded request's lookup ended (RFC 9211 `fwd`). */
export type ForwardReason = "uri-miss" | "vary-miss" | "stale" | "miss";

export type CacheOutcome =
  | { readonly kind: "hit"; readonly ttl: number; readonly coalesced?: boolean }
  | { readonly kind: "stale-while-revalidate"; readonly ttl: number }
  | {
      readonly kind: "stale-if-error";
      readonly ttl: number;
      readonly error: UpstreamErrorReason;
      readonly fwdStatus?: number;
    }
  | { readonly kind: "miss"; readonly fwd: ForwardReason; readonly fwdStatus: number }
  | {
      readonly kind: "uncacheable";
      readonly fwd: ForwardReason;
      readonly fwdStatus: number;
      readonly reason: NotStoredReason;
    }
  | { readonly kind: "bypass"; readonly reason: BypassReason; readonly fwdStatus?: number }
  | { readonly kind: "error"; readonly fwd: ForwardReason; readonly error: UpstreamErrorReason }
  | { readonly kind: "shadow"; readonly wouldBe: RealOutcome; readonly fwdStatus?: number };

export type RealOutcome = Exclude<CacheOutcome, { kind: "shadow" }>;

/** The metric label (`outcome`) for an outcome. */
export function outcomeLabel(outcome: CacheOutcome): CacheOutcomeLabel {
  if (outcome.kind === "shadow") return `shadow-${outcome.wouldBe.kind}`;
  return outcome.kind;
}

/** Whether the client's answer came from the cache (hit ratio numerator). */
export function servedFromCache(outcome: CacheOutcome): boolean {
  return (
    outcome.kind === "hit" || outcome.kind === "stale-while-revalidate" || outcome.kind === "stale-if-error"
  );
}

const CACHE_NAME = "apicache";

/** The Cache-Status field value (RFC 9211) for an outcome. */
export function cacheStatus(outcome: CacheOutcome): string {
  switch (outcome.kind) {
    case "hit":
      return `${CACHE_NAME}; hit; ttl=${outcome.ttl}${outcome.coalesced ? "; detail=coalesced" : ""}`;
    case "stale-while-revalidate":
      return `${CACHE_NAME}; hit; ttl=${outcome.ttl}; detail=stale-while-revalidate`;
    case "stale-if-error":
      return `${CACHE_NAME}; fwd=stale${fwdStatus(outcome.fwdStatus)}; ttl=${outcome.ttl}; detail=stale-if-error`;
    case "miss":
      return `${CACHE_NAME}; fwd=${outcome.fwd}${fwdStatus(outcome.fwdStatus)}; stored`;
    case "uncacheable":
      return `${CACHE_NAME}; fwd=${outcome.fwd}${fwdStatus(outcome.fwdStatus)}; detail=${outcome.reason}`;
    case "bypass":
      return `${CACHE_NAME}; fwd=${bypassForward(outcome.reason)}${fwdStatus(outcome.fwdStatus)}; detail=${outcome.reason}`;
    case "error":
      return `${CACHE_NAME}; fwd=${outcome.fwd}; detail=upstream-${outcome.error.replace("_", "-")}`;
    case "shadow":
      return `${CACHE_NAME}; fwd=bypass${fwdStatus(outcome.fwdStatus)}; detail=shadow-${outcome.wouldBe.kind}`;
  }
}

function fwdStatus(status: number | undefined): string {
  return status === undefined ? "" : `; fwd-status=${status}`;
}

function bypassForward(reason: BypassReason): string {
  if (reason === "unsafe-method" || reason === "method-not-cached") return "method";
  if (reason === "request-no-cache" || reason === "request-no-store") return "request";
  return "bypass";
}

/** Adds the status the upstream answered to an outcome decided before the response arrived. */
export function withForwardStatus(outcome: CacheOutcome, status: number): CacheOutcome {
  if (outcome.kind === "bypass" || outcome.kind === "shadow") return { ...outcome, fwdStatus: status };
  return outcome;
}
