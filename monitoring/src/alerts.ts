/**
 * The alerts, each split into the value it watches, the comparison that fires it and an optional guard
 * (e.g. "only with real traffic"): the rule's expr is `value comparison [and guard]`, and tests can query
 * the value on its own to prove it returns data. Every alert has a runbook section in docs/monitoring.md
 * (anchor = the alert name in lower case).
 */
import { O, S, V } from "./names.js";
import { increase, maxBy, quantile, rate, ratioOrZero, sel, suffixed, sumBy } from "./promql.js";
import { R, ROUTE_LABELS } from "./recording-rules.js";

export type Severity = "warning" | "critical";
export type AlertGroup = "sidecar" | "operator";

export interface AlertRule {
  readonly alert: string;
  readonly group: AlertGroup;
  /** The watched value (a PromQL expression that returns data whenever the metric exists). */
  readonly value: string;
  /** Appended to the value, e.g. `< 0.5`. */
  readonly comparison: string;
  /** `and`-ed after the comparison (e.g. a minimum request rate), optional. */
  readonly guard?: string;
  readonly for: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly description: string;
}

/** Ratios are judged only where there is traffic enough to mean something (requests per second). */
export const MIN_TRAFFIC_RPS = 0.5;

const policyTraffic = `${R.policyRequests} > ${MIN_TRAFFIC_RPS}`;

const sidecarTraffic: AlertRule[] = [
  {
    alert: "ApicacheHitRatioLow",
    group: "sidecar",
    value: R.policyHitRatio,
    comparison: "< 0.5",
    guard: policyTraffic,
    for: "30m",
    severity: "warning",
    summary: "CachePolicy {{ $labels.policy }} answers under half its cacheable requests from the cache",
    description:
      "Hit ratio {{ $value | humanizePercentage }} over 5m. Check the routes' ttl, the key's query/header parts (too many distinct keys), Cache-Control from the upstream (no-store, private) and invalidations that fire too often.",
  },
  {
    alert: "ApicacheImprovementLow",
    group: "sidecar",
    value: R.policyImprovement,
    comparison: "< 0.3",
    guard: policyTraffic,
    for: "30m",
    severity: "warning",
    summary: "CachePolicy {{ $labels.policy }} cuts response time by less than 30%",
    description:
      "Improvement {{ $value | humanizePercentage }} over 5m (1 − time clients waited / what the same requests would have cost the upstream, each priced at its route's mean upstream time). Look at the hit ratio per route, the store latency panel and the cache-served p95 on the apicache dashboard.",
  },
  {
    alert: "ApicacheServedFromCacheSlow",
    group: "sidecar",
    value: R.servedFromCacheP95,
    comparison: "> 0.1",
    for: "15m",
    severity: "warning",
    summary: "Cache hits of {{ $labels.policy }} take more than 100ms at p95",
    description:
      "p95 of cache-served responses is {{ $value | humanizeDuration }}. Usual causes: Redis latency (see the store panels), CPU throttling of the apicache-sidecar container, very large bodies.",
  },
];

const sidecarStore: AlertRule[] = [
  {
    alert: "ApicacheStoreErrors",
    group: "sidecar",
    value: R.storeErrorRatio,
    comparison: "> 0.05",
    for: "5m",
    severity: "warning",
    summary:
      "Store {{ $labels.store }} of {{ $labels.namespace }}/{{ $labels.pod }} fails more than 5% of operations",
    description:
      "Redis errors or timeouts ({{ $value | humanizePercentage }} of operations). Requests are served from the upstream meanwhile (fail open), so latency rises. Check Redis health, its network path, maxmemory and the URL Secret.",
  },
  {
    alert: "ApicacheStoreCircuitOpen",
    group: "sidecar",
    value: maxBy(["namespace", "pod", "store"], S.storeCircuitOpen),
    comparison: "> 0",
    for: "2m",
    severity: "critical",
    summary:
      "The {{ $labels.store }} circuit of {{ $labels.namespace }}/{{ $labels.pod }} is open: Redis is skipped",
    description:
      "The sidecar stopped calling the store after repeated failures; it serves from the in-process tier and the upstream until Redis answers again. Check that Redis is up and reachable from the pod.",
  },
  {
    alert: "ApicacheInvalidationsDropped",
    group: "sidecar",
    value: sumBy(["namespace", "pod", "store"], increase(S.storeDroppedInvalidations, "5m")),
    comparison: "> 0",
    for: "0m",
    severity: "critical",
    summary:
      "{{ $labels.namespace }}/{{ $labels.pod }} dropped invalidations {{ $labels.store }} did not accept",
    description:
      '{{ $value | printf "%.0f" }} invalidations dropped in 5m (pending queue full, or refused by Redis). The pod skips Redis reads until its queue drains, and refetches entries written before the drop. Restore Redis: the queue (10,000 tags and keys per pod) overflows when Redis stays unreachable through a burst of writes; see the runbook about its capacity.',
  },
  {
    alert: "ApicacheL1InvalidationChannelDown",
    group: "sidecar",
    value: maxBy(["namespace", "pod", "policy"], S.l1InvalidationChannelUp),
    comparison: "< 1",
    for: "10m",
    severity: "warning",
    summary:
      "{{ $labels.namespace }}/{{ $labels.pod }} has not used its L1 for 10 minutes: its invalidation channel is down",
    description:
      "Redis has not pushed this pod the changes of policy {{ $labels.policy }} for 10 minutes, so the pod keeps its in-process tier empty and reads every hit from Redis (correct, but slower and more load on Redis). Check that Redis is reachable and allows CLIENT TRACKING and SUBSCRIBE (the sidecar's log says why it could not arm the connection).",
  },
  {
    alert: "ApicacheInvalidationsPending",
    group: "sidecar",
    value: maxBy(["namespace", "pod", "store"], S.storePendingInvalidations),
    comparison: "> 0",
    for: "10m",
    severity: "warning",
    summary:
      "{{ $labels.namespace }}/{{ $labels.pod }} has invalidations {{ $labels.store }} has not accepted for 10 minutes",
    description:
      "{{ $value }} tags and keys wait to be applied to Redis (retried with backoff). This pod answers them as misses meanwhile, but other pods may serve the invalidated entries from Redis. Bring Redis back (see ApicacheStoreErrors).",
  },
];

const sidecarUpstream: AlertRule[] = [
  {
    alert: "ApicacheUpstreamErrors",
    group: "sidecar",
    value: R.upstreamErrorRatio,
    comparison: "> 0.05",
    for: "10m",
    severity: "warning",
    summary: "The upstream of {{ $labels.policy }} route {{ $labels.route }} fails more than 5% of requests",
    description:
      "{{ $value | humanizePercentage }} of upstream requests time out, are refused or reset, return 5xx or are truncated. This is the application's trouble, seen through the sidecar; check the app's pods and logs.",
  },
  {
    alert: "ApicacheServingStale",
    group: "sidecar",
    value: sumBy(ROUTE_LABELS, sel(R.requests, `outcome="${V.staleIfError}"`)),
    comparison: "> 0",
    for: "10m",
    severity: "warning",
    summary:
      "{{ $labels.policy }} route {{ $labels.route }} serves stale responses because the upstream fails",
    description:
      '{{ $value | printf "%.2f" }} requests/s answered with stale-if-error: clients get old data while the upstream is failing. Fix the upstream before staleIfError runs out.',
  },
  {
    alert: "ApicacheConfigReloadFailing",
    group: "sidecar",
    value: sumBy(["namespace", "pod"], rate(sel(S.configReloads, `result="failure"`), "15m")),
    comparison: "> 0",
    for: "5m",
    severity: "warning",
    summary: "The sidecar in {{ $labels.namespace }}/{{ $labels.pod }} rejects its new CachePolicy",
    description:
      "The new policy failed validation in the sidecar, which keeps serving with the last good one. See the sidecar's log (config reload) and the CachePolicy's Valid condition.",
  },
  {
    alert: "ApicacheAdminRequestsRejected",
    group: "sidecar",
    value: sumBy(["namespace", "pod"], rate(S.adminRejected, "5m")),
    comparison: "> 0",
    for: "15m",
    severity: "warning",
    summary:
      "The admin API of {{ $labels.namespace }}/{{ $labels.pod }} keeps refusing callers without a valid token",
    description:
      '{{ $value | printf "%.2f" }} refused calls/s to /invalidate, /warm or /stats: a job holding a stale token (the admin Secret of the policy was rotated) or something probing the pod. The endpoint and reason labels of the counter (missing, invalid, token-pending) tell which.',
  },
];

const operatorAlerts: AlertRule[] = [
  {
    alert: "ApicacheOperatorReconcileErrors",
    group: "operator",
    value: ratioOrZero(
      sumBy(["namespace"], rate(sel(O.reconcile, `result="${V.reconcileError}"`), "5m")),
      sumBy(["namespace"], rate(O.reconcile, "5m")),
    ),
    comparison: "> 0.1",
    for: "15m",
    severity: "warning",
    summary: "More than 10% of CachePolicy reconciles fail",
    description:
      "{{ $value | humanizePercentage }} of reconciles end in an error. Read the operator's log and the Events on the CachePolicies (kubectl describe cachepolicy); RBAC or API-server trouble is the usual cause.",
  },
  {
    alert: "ApicacheOperatorQueueBacklog",
    group: "operator",
    value: maxBy(["namespace"], O.queueDepth),
    comparison: "> 100",
    for: "15m",
    severity: "warning",
    summary: "The operator's work queue holds more than 100 CachePolicies for 15 minutes",
    description:
      "Reconciles do not keep up or keep failing and backing off. Check reconcile errors and duration.",
  },
  {
    alert: "ApicacheOperatorNoLeader",
    group: "operator",
    value: sumBy(["namespace"], O.leader),
    comparison: "< 1",
    for: "5m",
    severity: "critical",
    summary: "No operator replica holds the controller lease",
    description:
      "CachePolicy changes are not reconciled (the webhook still injects). Check the operator pods, their logs and the Lease in the operator's namespace.",
  },
  {
    alert: "ApicacheWebhookErrors",
    group: "operator",
    value: ratioOrZero(
      sumBy(["namespace"], rate(sel(O.injections, `result="${V.injectionError}"`), "5m")),
      sumBy(["namespace"], rate(O.injections, "5m")),
    ),
    comparison: "> 0",
    for: "10m",
    severity: "warning",
    summary: "The injection webhook fails for some pods",
    description:
      "{{ $value | humanizePercentage }} of pods seen by the webhook got an error; with failurePolicy Ignore they start without the sidecar. See the operator log (webhook) and the pods' CachePolicy.",
  },
  {
    alert: "ApicachePodsNotInjected",
    group: "operator",
    value: maxBy(["namespace"], O.podsNotInjected),
    comparison: "> 0",
    for: "5m",
    severity: "warning",
    summary: "Pods that CachePolicies select run without the sidecar",
    description:
      "{{ $value }} selected pod(s) run uncached. Where other replicas of the same app have the sidecar, a write such a pod answers invalidates nothing, and those replicas serve the old data until it expires. The policies' Degraded condition (PodsNotInjected) names the pods; restart them once the webhook is reachable. If that does not inject them, the webhook skips them (see the runbook).",
  },
  {
    alert: "ApicacheWebhookSlow",
    group: "operator",
    value: quantile(0.99, ["namespace"], suffixed(O.webhookDuration, "_bucket"), "5m"),
    comparison: "> 1",
    for: "15m",
    severity: "warning",
    summary: "The injection webhook takes more than 1s at p99",
    description:
      "Pod creation waits on the webhook (timeout: the chart's webhook.timeoutSeconds). Check the operator's CPU limits and its API-server latency.",
  },
  {
    alert: "ApicacheWebhookCertificateExpiring",
    group: "operator",
    value: `min by (namespace) (${O.certificateExpiry}) - time()`,
    comparison: `< ${7 * 24 * 3600}`,
    for: "1h",
    severity: "critical",
    summary: "The webhook's serving certificate expires in less than 7 days",
    description:
      "It expires in {{ $value | humanizeDuration }} and was not rotated (the operator rotates well before that; cert-manager renews at renewBefore). Check the operator log (certificate) or the Certificate resource.",
  },
  {
    alert: "ApicacheOperatorInformerRestarts",
    group: "operator",
    value: sumBy(["namespace", "resource"], rate(O.informerRestarts, "15m")),
    comparison: `> ${3 / 900}`,
    for: "15m",
    severity: "warning",
    summary: "The operator's {{ $labels.resource }} watch keeps restarting",
    description:
      "More than 3 informer restarts in 15 minutes: the operator's view of the cluster lags. Check API-server health and the operator's RBAC for {{ $labels.resource }}.",
  },
];

export function alertRules(): AlertRule[] {
  return [...sidecarTraffic, ...sidecarStore, ...sidecarUpstream, ...operatorAlerts];
}

/** The rule expression: `value comparison [and guard]`. */
export function alertExpr(rule: AlertRule): string {
  const core = `${rule.value} ${rule.comparison}`;
  return rule.guard === undefined ? core : `(${core}) and ${rule.guard}`;
}
