/**
 * The metric names and label values the dashboard and the rules are built from, imported from the
 * programs' own definitions (pure data modules): a renamed metric changes the generated files, and the
 * drift test makes that visible. Nothing in monitoring/ spells a sidecar or operator metric name.
 */
import {
  INJECTION_RESULTS,
  OPERATOR_METRICS,
  RECONCILE_RESULTS,
  WEBHOOK_RESULTS,
} from "@apicache/operator/telemetry/metric-names";
import {
  CACHE_OUTCOMES,
  CACHEABLE_OUTCOMES,
  SERVED_FROM_CACHE_OUTCOMES,
} from "@apicache/sidecar/http-cache/cache-outcome";
import { NO_ROUTE } from "@apicache/sidecar/routing/request-route";
import { SIDECAR_METRICS } from "@apicache/sidecar/telemetry/metric-names";

/** Sidecar metric names, shortened for query building. */
export const S = {
  requests: SIDECAR_METRICS.requests.name,
  requestDuration: SIDECAR_METRICS.requestDuration.name,
  upstreamDuration: SIDECAR_METRICS.upstreamDuration.name,
  upstreamErrors: SIDECAR_METRICS.upstreamErrors.name,
  storeDuration: SIDECAR_METRICS.storeDuration.name,
  storeErrors: SIDECAR_METRICS.storeErrors.name,
  storeCircuitOpen: SIDECAR_METRICS.storeCircuitOpen.name,
  storePendingInvalidations: SIDECAR_METRICS.storePendingInvalidations.name,
  storeDroppedInvalidations: SIDECAR_METRICS.storeDroppedInvalidations.name,
  invalidations: SIDECAR_METRICS.invalidations.name,
  invalidatedEntries: SIDECAR_METRICS.invalidatedEntries.name,
  l1Bytes: SIDECAR_METRICS.l1Bytes.name,
  l1Entries: SIDECAR_METRICS.l1Entries.name,
  l1InvalidationChannelUp: SIDECAR_METRICS.l1InvalidationChannelUp.name,
  l1InvalidationMessages: SIDECAR_METRICS.l1InvalidationMessages.name,
  l1PushedInvalidations: SIDECAR_METRICS.l1PushedInvalidations.name,
  l1PushedEvictions: SIDECAR_METRICS.l1PushedEvictions.name,
  l1Flushes: SIDECAR_METRICS.l1Flushes.name,
  l1LeaseRefusals: SIDECAR_METRICS.l1LeaseRefusals.name,
  writeHolds: SIDECAR_METRICS.writeHolds.name,
  coalesced: SIDECAR_METRICS.coalesced.name,
  fillLeases: SIDECAR_METRICS.fillLeases.name,
  warmRuns: SIDECAR_METRICS.warmRuns.name,
  configInfo: SIDECAR_METRICS.configInfo.name,
  configReloads: SIDECAR_METRICS.configReloads.name,
  adminRejected: SIDECAR_METRICS.adminRejected.name,
} as const;

/** Operator metric names, shortened for query building. */
export const O = {
  reconcile: OPERATOR_METRICS.reconcileTotal.name,
  reconcileDuration: OPERATOR_METRICS.reconcileDuration.name,
  queueDepth: OPERATOR_METRICS.queueDepth.name,
  webhookDuration: OPERATOR_METRICS.webhookDuration.name,
  injections: OPERATOR_METRICS.injectionsTotal.name,
  certificateExpiry: OPERATOR_METRICS.certificateExpiry.name,
  leader: OPERATOR_METRICS.leader.name,
  podsNotInjected: OPERATOR_METRICS.podsNotInjected.name,
  informerRestarts: OPERATOR_METRICS.informerRestarts.name,
} as const;

function pick<T extends string>(values: readonly string[], wanted: T): T {
  if (!values.includes(wanted)) {
    throw new Error(
      `monitoring: label value "${wanted}" is not defined by the program (have ${values.join(", ")})`,
    );
  }
  return wanted;
}

/** A regex alternation of label values, for `label=~"…"` matchers (values are plain words). */
export function oneOf(values: readonly string[]): string {
  for (const value of values) {
    if (!/^[A-Za-z0-9_-]+$/.test(value)) throw new Error(`monitoring: label value "${value}" needs escaping`);
  }
  return values.join("|");
}

/** Label values the queries select on, each checked against the program's closed set. */
export const V = {
  servedFromCache: oneOf(SERVED_FROM_CACHE_OUTCOMES),
  cacheable: oneOf(CACHEABLE_OUTCOMES),
  staleIfError: pick(CACHE_OUTCOMES, "stale-if-error"),
  outcomeHit: pick(CACHE_OUTCOMES, "hit"),
  outcomeMiss: pick(CACHE_OUTCOMES, "miss"),
  /** Everything but hit and miss: the "why not a plain hit" outcomes. */
  otherOutcomes: oneOf(CACHE_OUTCOMES.filter((o) => o !== "hit" && o !== "miss")),
  noRoute: NO_ROUTE,
  reconcileError: pick(RECONCILE_RESULTS, "error"),
  injectionError: pick(INJECTION_RESULTS, "error"),
  injectionInjected: pick(INJECTION_RESULTS, "injected"),
  webhookError: pick(WEBHOOK_RESULTS, "error"),
} as const;
