/**
 * Every metric the sidecar exports: names, help text, labels and (for label values that dashboards and
 * alerts filter on) the closed sets of values. Pure data — `metrics.ts` registers these with
 * prom-client, and the monitoring generator imports them so dashboard and alert queries cannot drift.
 * Units are in the names (`_seconds`, `_bytes`, `_total`). The request outcomes and upstream error
 * reasons (the `outcome` and `reason` label values) are the cache's own vocabulary: they live with the
 * CacheOutcome union in http-cache/cache-outcome.ts, and telemetry imports them from there.
 */

export const METRIC_PREFIX = "apicache_";

export const STORE_OPERATIONS = ["get", "set", "delete", "delete_tags", "fence"] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

export const INVALIDATION_SOURCES = ["write", "admin"] as const;
export type InvalidationSource = (typeof INVALIDATION_SOURCES)[number];

/** The `rule` label for invalidations that are not a policy rule. */
export const INVALIDATION_RULE_TARGET_URI = "target-uri";
export const INVALIDATION_RULE_ADMIN = "admin";

/**
 * The `outcome` label of fill_leases_total (cross-pod coalescing, ADR 0019): what a miss did about
 * the key's lease in Redis.
 */
export const FILL_LEASE_OUTCOMES = [
  /** Took the lease: this pod asked the upstream. */
  "taken",
  /** Waited for another pod's fill, was woken by its release and served the entry it stored. */
  "woken",
  /** Woken, but no fresh entry was stored (an uncacheable answer, an error): fetched itself. */
  "not_stored",
  /** Waited the whole lease (the holder died or was slow): fetched itself (a late holder's entry may answer first). */
  "timed_out",
  /** Redis could not be asked (circuit open, timeout, notifications down): filled locally. */
  "unavailable",
] as const;
export type FillLeaseOutcome = (typeof FILL_LEASE_OUTCOMES)[number];

/** The `outcome` label of warm_runs_total: what one replica did with one scheduled warm entry. */
export const WARM_RUN_OUTCOMES = ["warmed", "skipped_other_replica", "failed"] as const;
export type WarmRunOutcome = (typeof WARM_RUN_OUTCOMES)[number];

/**
 * Why L1 was emptied at once (ADR 0018): its invalidation channel went down, or came back (changes
 * meanwhile were not pushed), or Redis was flushed.
 */
export const L1_FLUSH_REASONS = ["channel_down", "channel_up", "flush_message"] as const;

export const CONFIG_RELOAD_RESULTS = ["success", "failure"] as const;

/** Buckets (seconds) for the request histograms: sub-millisecond hits up to slow upstreams. */
export const REQUEST_DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;
/** Buckets (seconds) for store operations: L1 in microseconds, Redis in milliseconds. */
export const STORE_DURATION_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
] as const;

export interface MetricDefinition {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

function metric<const T extends MetricDefinition["type"], const L extends readonly string[]>(
  type: T,
  name: string,
  labels: L,
  help: string,
) {
  return { name: `${METRIC_PREFIX}${name}`, type, labels, help } as const;
}

const counter = <const L extends readonly string[]>(name: string, labels: L, help: string) =>
  metric("counter", name, labels, help);
const gauge = <const L extends readonly string[]>(name: string, labels: L, help: string) =>
  metric("gauge", name, labels, help);
const histogram = <const L extends readonly string[]>(
  name: string,
  labels: L,
  help: string,
  buckets: readonly number[],
) => ({ ...metric("histogram", name, labels, help), buckets }) as const;

export const SIDECAR_METRICS = {
  requests: counter(
    "requests_total",
    ["policy", "route", "method", "outcome"],
    "Requests answered, by route, method and cache outcome (the Cache-Status decision).",
  ),
  requestDuration: histogram(
    "request_duration_seconds",
    ["policy", "route", "outcome"],
    "Time from receiving a request to finishing its response, by cache outcome.",
    REQUEST_DURATION_BUCKETS,
  ),
  upstreamDuration: histogram(
    "upstream_request_duration_seconds",
    ["policy", "route"],
    "Time the upstream took to answer (headers and body).",
    REQUEST_DURATION_BUCKETS,
  ),
  upstreamErrors: counter(
    "upstream_errors_total",
    ["policy", "route", "reason"],
    "Upstream failures: timeout, refused, reset, status_5xx, truncated, busy (the lane's queue deadline passed).",
  ),
  storeDuration: histogram(
    "store_operation_duration_seconds",
    ["store", "operation"],
    "Duration of cache store operations (get, set, delete, delete_tags, fence).",
    STORE_DURATION_BUCKETS,
  ),
  storeErrors: counter(
    "store_errors_total",
    ["store", "operation", "reason"],
    "Failed cache store operations; each one was treated as a miss (fail open).",
  ),
  storeCircuitOpen: gauge(
    "store_circuit_open",
    ["store"],
    "1 while the store's circuit breaker is open (requests skip it), else 0.",
  ),
  storePendingInvalidations: gauge(
    "store_pending_invalidations",
    ["store"],
    "Tags + keys whose invalidation the store (Redis) has not accepted yet; retried until applied.",
  ),
  storeDroppedInvalidations: counter(
    "store_dropped_invalidations_total",
    ["store"],
    "Invalidations given up on (pending queue full, or refused by Redis); reads skip the store until the queue drains.",
  ),
  invalidations: counter(
    "invalidations_total",
    ["policy", "rule", "source"],
    "Invalidations run, by rule (a policy rule, target-uri or admin) and source (write or admin).",
  ),
  invalidatedEntries: counter(
    "invalidated_entries_total",
    ["policy", "source"],
    "Entries removed by invalidations.",
  ),
  l1Bytes: gauge("l1_bytes", ["policy"], "Bytes held by the in-process tier (L1)."),
  l1Entries: gauge("l1_entries", ["policy"], "Entries held by the in-process tier (L1)."),
  l1InvalidationChannelUp: gauge(
    "l1_invalidation_channel_up",
    ["policy"],
    "1 while Redis pushes this pod every change of the policy's entries (every node armed): L1 serves; 0: L1 is bypassed (reads go to Redis).",
  ),
  l1InvalidationMessages: counter(
    "l1_invalidation_messages_total",
    ["policy"],
    "Invalidation messages Redis pushed to this pod (client-side caching, broadcast mode).",
  ),
  l1PushedInvalidations: counter(
    "l1_pushed_invalidations_total",
    ["policy", "kind"],
    "Names the pushed invalidations carried, by kind: entry (a key invalidated by key) or tag (a tag's generation changed).",
  ),
  l1PushedEvictions: counter(
    "l1_pushed_evictions_total",
    ["policy"],
    "L1 entries dropped because Redis pushed an invalidation of their key or of one of their tags.",
  ),
  l1Flushes: counter(
    "l1_flushes_total",
    ["policy", "reason"],
    "Times L1 was emptied at once: channel_down, channel_up (changes meanwhile were not pushed) or flush_message (FLUSHALL/FLUSHDB).",
  ),
  l1LeaseRefusals: counter(
    "l1_lease_refusals_total",
    ["policy"],
    "L1 copies not served because the invalidation channel's lease lapsed (no heartbeat answered by Redis within the lease: a silent partition, or a loop too busy to read the answer); read from Redis instead.",
  ),
  writeHolds: histogram(
    "write_hold_seconds",
    ["policy"],
    "Writes whose invalidation Redis did not take, held before their response until replicas that cannot hear Redis stopped serving L1 (or it was applied).",
    REQUEST_DURATION_BUCKETS,
  ),
  coalesced: counter(
    "coalesced_requests_total",
    ["policy", "route"],
    "Requests that waited for another request's upstream fetch of the same key instead of sending their own.",
  ),
  fillLeases: counter(
    "fill_leases_total",
    ["policy", "route", "outcome"],
    "Misses coalesced across pods through a lease in Redis, by outcome: taken, woken, not_stored, timed_out, unavailable.",
  ),
  warmRuns: counter(
    "warm_runs_total",
    ["policy", "entry", "outcome"],
    "Scheduled warm runs per spec.warm entry (its path), by outcome: warmed (by this replica), skipped_other_replica (another replica took this interval), failed.",
  ),
  configInfo: gauge(
    "config_info",
    ["policy", "config_hash"],
    "1 for the CachePolicy configuration in use (its sha256).",
  ),
  configReloads: counter(
    "config_reloads_total",
    ["result"],
    "Policy reloads, by result: success, or failure (the last good policy stays).",
  ),
  adminRejected: counter(
    "admin_rejected_requests_total",
    ["endpoint", "reason"],
    "Admin API requests refused for want of the bearer token, by reason: missing, invalid, token-pending.",
  ),
} as const satisfies Record<string, MetricDefinition>;

export type SidecarMetricKey = keyof typeof SIDECAR_METRICS;
