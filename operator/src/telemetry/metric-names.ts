/**
 * Every metric the operator exports, defined once (pure data: no prom-client import). `metrics.ts`
 * registers them; the Grafana dashboard and the PrometheusRule generators import them from here, so
 * names cannot drift. Units are in the names (`_seconds`, `_total`).
 */
export interface MetricName {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly labels: readonly string[];
}

export const OPERATOR_METRICS = {
  reconcileTotal: {
    name: "apicache_operator_reconcile_total",
    help: "CachePolicy reconciles, by result (success, error, requeue).",
    type: "counter",
    labels: ["result"],
  },
  reconcileDuration: {
    name: "apicache_operator_reconcile_duration_seconds",
    help: "Time one CachePolicy reconcile took.",
    type: "histogram",
    labels: [],
  },
  queueDepth: {
    name: "apicache_operator_queue_depth",
    help: "CachePolicy keys waiting in the work queue (including those in backoff).",
    type: "gauge",
    labels: [],
  },
  webhookDuration: {
    name: "apicache_operator_webhook_duration_seconds",
    help: "Time the injection webhook took to answer an AdmissionReview, by result.",
    type: "histogram",
    labels: ["result"],
  },
  injectionsTotal: {
    name: "apicache_operator_injections_total",
    help: "Pods seen by the injection webhook, by result (injected, skipped, error).",
    type: "counter",
    labels: ["result"],
  },
  certificateExpiry: {
    name: "apicache_operator_webhook_certificate_expiry_timestamp_seconds",
    help: "Unix time at which the webhook serving certificate currently served expires.",
    type: "gauge",
    labels: [],
  },
  leader: {
    name: "apicache_operator_leader",
    help: "1 while this replica holds the controller lease, 0 otherwise.",
    type: "gauge",
    labels: [],
  },
  podsNotInjected: {
    name: "apicache_operator_pods_not_injected",
    help: "Pods that CachePolicies select and that run without the sidecar, summed over every policy (the leader's count).",
    type: "gauge",
    labels: [],
  },
  informerRestarts: {
    name: "apicache_operator_informer_restarts_total",
    help: "Informer restarts after a watch or list error, by resource.",
    type: "counter",
    labels: ["resource"],
  },
} as const satisfies Record<string, MetricName>;

/** Label values, for dashboards and alerts that select on them. */
export const RECONCILE_RESULTS = ["success", "error", "requeue"] as const;
export const INJECTION_RESULTS = ["injected", "skipped", "error"] as const;
export const WEBHOOK_RESULTS = ["allowed", "patched", "error"] as const;

export type InjectionMetricResult = (typeof INJECTION_RESULTS)[number];
