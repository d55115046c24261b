/**
 * Recording rules: the hit ratio and the improvement ratio (the product's headline), per route and per
 * policy, computed once so the dashboard and the alerts read the same numbers.
 *
 * A route's improvement = 1 − (mean time to answer the client) / (mean time the upstream takes). The
 * upstream mean is what every request would cost without the cache; hits cost a fraction of it. With
 * every request a hit for a whole window there is no upstream sample and the route's ratio is absent
 * (not 0) for that window.
 *
 * A policy's improvement prices each request at its own route's upstream cost, as the dashboard's
 * headline does: a policy-wide upstream mean would weigh routes by their misses (a fast route that
 * always misses drags a slow, well-cached one down), and the alert would fire on a cache that works.
 */
import { S, V } from "./names.js";
import { rate, ratioOrZero, sel, suffixed, sumBy } from "./promql.js";

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly help: string;
}

/** The aggregation levels: per route (the finest) and per policy. */
export const ROUTE_LABELS = ["namespace", "policy", "route"] as const;
export const POLICY_LABELS = ["namespace", "policy"] as const;

/** Recorded series names, for the dashboard and the alerts. */
export const R = {
  requests: "apicache:requests:rate5m",
  servedSum: "apicache:request_duration_seconds_sum:rate5m",
  servedCount: "apicache:request_duration_seconds_count:rate5m",
  upstreamSum: "apicache:upstream_request_duration_seconds_sum:rate5m",
  upstreamCount: "apicache:upstream_request_duration_seconds_count:rate5m",
  servedMean: "apicache:request_duration_seconds:mean5m",
  upstreamMean: "apicache:upstream_request_duration_seconds:mean5m",
  routeCost: "apicache:route_upstream_cost_seconds:mean5m",
  hitRatio: "apicache:hit_ratio:rate5m",
  improvement: "apicache:improvement_ratio:rate5m",
  policyRequests: "apicache:policy_requests:rate5m",
  policyHitRatio: "apicache:policy_hit_ratio:rate5m",
  policyImprovement: "apicache:policy_improvement_ratio:rate5m",
  upstreamErrorRatio: "apicache:upstream_error_ratio:rate5m",
  servedFromCacheP95: "apicache:served_from_cache_duration_seconds:p95_5m",
  storeErrorRatio: "apicache:store_error_ratio:rate5m",
} as const;

const W = "5m";
/**
 * How long a route's last known upstream cost outlives its series (a Prometheus or sidecar restart); while
 * the route's sidecars export it, the cost is carried from one evaluation to the next.
 */
const COST_MEMORY = "1h";
const route = [...ROUTE_LABELS];
const policy = [...POLICY_LABELS];
/** Policy-level numbers cover the policy's routes; unrouted pass-through traffic is left out. */
const routed = `route!="${V.noRoute}"`;

function rateRules(): RecordingRule[] {
  const rec = (record: string, metric: string, help: string, labels: string[] = route): RecordingRule => ({
    record,
    expr: sumBy(labels, rate(metric, W)),
    help,
  });
  return [
    rec(R.requests, S.requests, "Requests per second by route and cache outcome.", [...route, "outcome"]),
    rec(R.servedSum, suffixed(S.requestDuration, "_sum"), "Seconds spent answering clients, per second."),
    rec(R.servedCount, suffixed(S.requestDuration, "_count"), "Answered requests per second."),
    rec(
      R.upstreamSum,
      suffixed(S.upstreamDuration, "_sum"),
      "Seconds spent waiting on the upstream, per second.",
    ),
    rec(R.upstreamCount, suffixed(S.upstreamDuration, "_count"), "Upstream requests per second."),
  ];
}

function routeRatioRules(): RecordingRule[] {
  const byRoute = (expr: string) => sumBy(route, expr);
  return [
    {
      record: R.servedMean,
      expr: `${R.servedSum} / ${R.servedCount}`,
      help: "Mean time to answer the client (all outcomes).",
    },
    {
      record: R.upstreamMean,
      expr: `${R.upstreamSum} / ${R.upstreamCount}`,
      help: "Mean upstream response time: the cost of a request without the cache.",
    },
    {
      record: R.routeCost,
      // The rule reads its own last value: a route served only from the cache keeps the cost it last
      // had for as long as its sidecars export it, however long ago its last miss was.
      expr:
        `((${R.upstreamSum} / (${R.upstreamCount} > 0)) or last_over_time(${R.routeCost}[${COST_MEMORY}]))` +
        ` and ${R.servedCount}`,
      help: "What one request of the route costs the upstream: its mean upstream time over 5m, or the last such mean while every request since was served from the cache.",
    },
    {
      record: R.hitRatio,
      expr: ratioOrZero(
        byRoute(sel(R.requests, `outcome=~"${V.servedFromCache}"`)),
        byRoute(sel(R.requests, `outcome=~"${V.cacheable}"`)),
      ),
      help: "Share of cache-candidate requests answered from the cache (hit, stale-while-revalidate, stale-if-error).",
    },
    {
      record: R.improvement,
      expr: `1 - ${R.servedMean} / ${R.upstreamMean}`,
      help: "1 − served mean / upstream mean: the share of response time the cache removed.",
    },
    {
      record: R.upstreamErrorRatio,
      expr: ratioOrZero(
        byRoute(rate(S.upstreamErrors, W)),
        byRoute(rate(suffixed(S.upstreamDuration, "_count"), W)),
      ),
      help: "Share of upstream requests that failed (timeout, refused, reset, 5xx, truncated).",
    },
  ];
}

function policyRules(): RecordingRule[] {
  const byPolicy = (expr: string) => sumBy(policy, expr);
  return [
    {
      record: R.policyRequests,
      expr: byPolicy(sel(R.requests, routed)),
      help: "Requests per second on the policy's routes.",
    },
    {
      record: R.policyHitRatio,
      expr: ratioOrZero(
        byPolicy(sel(R.requests, routed, `outcome=~"${V.servedFromCache}"`)),
        byPolicy(sel(R.requests, routed, `outcome=~"${V.cacheable}"`)),
      ),
      help: "Hit ratio of the whole policy.",
    },
    {
      record: R.policyImprovement,
      expr:
        `1 - ${byPolicy(`${sel(R.servedSum, routed)} and ${R.routeCost}`)}` +
        ` / ${byPolicy(`${sel(R.servedCount, routed)} * ${R.routeCost}`)}`,
      help: "1 − time clients waited / what the same requests would have cost the upstream, each priced at its route's cost: the dashboard's headline, over 5m.",
    },
  ];
}

function healthRules(): RecordingRule[] {
  const storeLabels = ["namespace", "pod", "store"];
  return [
    {
      record: R.servedFromCacheP95,
      expr: `histogram_quantile(0.95, ${sumBy(
        [...policy, "le"],
        rate(sel(suffixed(S.requestDuration, "_bucket"), `outcome=~"${V.servedFromCache}"`), W),
      )})`,
      help: "p95 time to answer requests served from the cache.",
    },
    {
      record: R.storeErrorRatio,
      expr: ratioOrZero(
        sumBy(storeLabels, rate(S.storeErrors, W)),
        sumBy(storeLabels, rate(suffixed(S.storeDuration, "_count"), W)),
      ),
      help: "Failed store operations per store operation (each failure was served as a miss).",
    },
  ];
}

export function recordingRules(): RecordingRule[] {
  return [...rateRules(), ...routeRatioRules(), ...policyRules(), ...healthRules()];
}
