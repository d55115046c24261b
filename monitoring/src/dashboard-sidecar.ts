/**
 * The sidecar rows of the dashboard: the headline (improvement and hit ratio, per policy and route),
 * latency served vs upstream, outcomes, the store (Redis) and invalidations.
 */
import type { Builder } from "@grafana/grafana-foundation-sdk/cog";
import type { Panel } from "@grafana/grafana-foundation-sdk/dashboard";
import { F, higherIsBetter, lowerIsBetter, q, RANGE, RATE, stat, timeseries } from "./dashboard-kit.js";
import { S, V } from "./names.js";
import { increase, quantile, rate, ratioOrZero, sel, suffixed, sumBy } from "./promql.js";
import { R } from "./recording-rules.js";

export interface DashboardRow {
  readonly title: string;
  readonly collapsed?: boolean;
  readonly panels: readonly Builder<Panel>[];
}

const policyFilter = [F.namespace, F.policy] as const;
const routeFilter = [F.namespace, F.policy, F.route] as const;
const byPolicy = ["namespace", "policy"];
const byRoute = ["namespace", "policy", "route"];

/**
 * The headline stats cover the dashboard's whole time range (`$__range`, one instant query at its end),
 * not the last five minutes of it: a recorded `rate5m` series read at the range's end says nothing about
 * the hour or the load test the range shows (ADR 0026). Per policy; `routed` keeps to the policy's routes.
 */
const overRange = (metric: string, ...matchers: string[]) =>
  sumBy(byPolicy, increase(sel(metric, ...policyFilter, ...matchers), RANGE));
const routed = `route!="${V.noRoute}"`;

/** How far back a route's last recorded upstream cost is looked up when the range had no upstream request. */
const BASELINE = "1d";

/**
 * 1 − (time clients waited) / (what the same requests would have cost the upstream), over the range.
 * Each request is priced at its own route's mean upstream time over the range or, when every request of
 * the route was served from the cache in the range, at the route's last known cost (the recorded
 * apicache:route_upstream_cost_seconds:mean5m, which carries it for as long as the route is served).
 * Pricing every request at the policy-wide upstream mean instead weighs routes by their misses (the slow
 * reports a write drops, say), and leaves the panel empty when nothing missed. Routes with no upstream
 * time at all are left out.
 */
function improvementOverRange(): string {
  const perRoute = (metric: string, window: string) =>
    sumBy(byRoute, increase(sel(metric, ...policyFilter, routed), window));
  const rangeMean = `(${perRoute(suffixed(S.upstreamDuration, "_sum"), RANGE)} / (${perRoute(suffixed(S.upstreamDuration, "_count"), RANGE)} > 0))`;
  const lastKnown = sumBy(
    byRoute,
    `last_over_time(${sel(R.routeCost, ...policyFilter, routed)}[${BASELINE}])`,
  );
  const cost = `(${rangeMean} or ${lastKnown})`;
  const waited = `(${perRoute(suffixed(S.requestDuration, "_sum"), RANGE)} and ${cost})`;
  const wouldCost = `${perRoute(suffixed(S.requestDuration, "_count"), RANGE)} * ${cost}`;
  return `1 - ${sumBy(byPolicy, waited)} / ${sumBy(byPolicy, wouldCost)}`;
}

/** Cache candidates answered from the cache over the range. */
function hitRatioOverRange(): string {
  return ratioOrZero(
    overRange(S.requests, routed, `outcome=~"${V.servedFromCache}"`),
    overRange(S.requests, routed, `outcome=~"${V.cacheable}"`),
  );
}

/**
 * 1 − upstream requests / requests answered, per policy, over the time range: every request the
 * sidecars answered, routed or not, against every request they sent the upstream (misses, background
 * revalidations, warm runs, writes). No upstream request at all is 100% saved, not "No data".
 */
function upstreamSaved(): string {
  const answered = overRange(suffixed(S.requestDuration, "_count"));
  return `1 - (${ratioOrZero(overRange(suffixed(S.upstreamDuration, "_count")), answered)})`;
}

function overview(): DashboardRow {
  return {
    title: "Overview: how much faster",
    panels: [
      stat("Improvement", {
        description:
          "The share of response time the cache removed, per policy, over the time range shown: 1 − time to answer / what the same requests would have cost the upstream, each priced at its route's mean upstream time over the range, or its last known cost for a route that never missed in it.",
        unit: "percentunit",
        width: 5,
        queries: [q(improvementOverRange(), "{{policy}}", { instant: true })],
        thresholds: higherIsBetter(0.3, 0.5),
      }),
      stat("Hit ratio", {
        description:
          "Cache-candidate requests answered from the cache (hit, stale-while-revalidate, stale-if-error), per policy, over the time range shown.",
        unit: "percentunit",
        width: 5,
        queries: [q(hitRatioOverRange(), "{{policy}}", { instant: true })],
        thresholds: higherIsBetter(0.5, 0.8),
      }),
      stat("Upstream requests saved", {
        description:
          "Share of the requests answered over the time range that never reached the upstream: 1 − upstream requests (misses, background revalidations, warm runs, writes) / requests answered.",
        unit: "percentunit",
        width: 5,
        queries: [q(upstreamSaved(), "{{policy}}", { instant: true })],
        thresholds: higherIsBetter(0.5, 0.8),
      }),
      stat("Requests", {
        description: "Requests per second through the sidecars (all routes and outcomes).",
        unit: "reqps",
        width: 4,
        queries: [q(sumBy([], rate(sel(S.requests, ...policyFilter), RATE)), "requests/s")],
      }),
      stat("Served from cache p95", {
        description: "p95 time to answer requests served from the cache (recording rule).",
        unit: "s",
        width: 5,
        queries: [q(sel(R.servedFromCacheP95, ...policyFilter), "{{policy}}")],
        thresholds: lowerIsBetter(0.05, 0.1),
      }),
      timeseries("Improvement per route", {
        description: "apicache:improvement_ratio:rate5m: 1 − served mean / upstream mean, per route.",
        unit: "percentunit",
        queries: [q(sel(R.improvement, ...routeFilter), "{{policy}} {{route}}")],
        thresholds: higherIsBetter(0.3, 0.5),
      }),
      timeseries("Hit ratio per route", {
        description: "apicache:hit_ratio:rate5m per route.",
        unit: "percentunit",
        min: 0,
        max: 1,
        queries: [q(sel(R.hitRatio, ...routeFilter), "{{policy}} {{route}}")],
      }),
    ],
  };
}

function latency(): DashboardRow {
  const served = suffixed(S.requestDuration, "_bucket");
  const upstream = suffixed(S.upstreamDuration, "_bucket");
  return {
    title: "Latency: served vs upstream",
    panels: [
      timeseries("Served vs upstream (p50, p95)", {
        description: "Time to answer the client vs time the upstream takes, per policy.",
        unit: "s",
        queries: [
          q(quantile(0.5, byPolicy, sel(served, ...routeFilter), RATE), "served p50 {{policy}}"),
          q(quantile(0.95, byPolicy, sel(served, ...routeFilter), RATE), "served p95 {{policy}}"),
          q(quantile(0.5, byPolicy, sel(upstream, ...routeFilter), RATE), "upstream p50 {{policy}}"),
          q(quantile(0.95, byPolicy, sel(upstream, ...routeFilter), RATE), "upstream p95 {{policy}}"),
        ],
      }),
      timeseries("Mean served vs upstream per route", {
        description: "The two means the improvement ratio compares (recording rules).",
        unit: "s",
        queries: [
          q(sel(R.servedMean, ...routeFilter), "served {{policy}} {{route}}"),
          q(sel(R.upstreamMean, ...routeFilter), "upstream {{policy}} {{route}}"),
        ],
      }),
      timeseries("p95 by outcome", {
        description: "Time to answer by cache outcome: hits should sit far below misses.",
        unit: "s",
        queries: [q(quantile(0.95, ["outcome"], sel(served, ...routeFilter), RATE), "{{outcome}}")],
      }),
      timeseries("Upstream p95 per route", {
        description: "The application's own latency, as the sidecar sees it.",
        unit: "s",
        queries: [q(quantile(0.95, byRoute, sel(upstream, ...routeFilter), RATE), "{{policy}} {{route}}")],
      }),
    ],
  };
}

function outcomes(): DashboardRow {
  return {
    title: "Outcomes: hits, misses, stale and bypass",
    panels: [
      timeseries("Requests by outcome", {
        description: "Requests per second by Cache-Status outcome.",
        unit: "reqps",
        stacked: true,
        queries: [q(sumBy(["outcome"], rate(sel(S.requests, ...routeFilter), RATE)), "{{outcome}}")],
      }),
      timeseries("Stale and bypass reasons", {
        description:
          "Everything that was not a plain hit or miss: stale-while-revalidate, stale-if-error (upstream failing), uncacheable, bypass, error and shadow outcomes, per route.",
        unit: "reqps",
        queries: [
          q(
            sumBy(
              ["route", "outcome"],
              rate(sel(S.requests, ...routeFilter, `outcome=~"${V.otherOutcomes}"`), RATE),
            ),
            "{{route}} {{outcome}}",
          ),
        ],
      }),
      timeseries("Upstream errors by reason", {
        description: "Upstream timeouts, refused or reset connections, 5xx answers and truncated bodies.",
        unit: "reqps",
        queries: [
          q(
            sumBy(["route", "reason"], rate(sel(S.upstreamErrors, ...routeFilter), RATE)),
            "{{route}} {{reason}}",
          ),
        ],
      }),
      timeseries("Coalesced requests", {
        description: "Requests that waited for another request's upstream fetch of the same key.",
        unit: "reqps",
        queries: [q(sumBy(["route"], rate(sel(S.coalesced, ...routeFilter), RATE)), "{{route}}")],
      }),
      timeseries("Cross-pod fill leases", {
        description:
          "Misses coalesced across replicas through a lease in Redis: taken (this pod fetched), woken (served another pod's fill), not_stored, timed_out (the holder died or was slow), unavailable (Redis not asked).",
        unit: "reqps",
        queries: [q(sumBy(["outcome"], rate(sel(S.fillLeases, ...routeFilter), RATE)), "{{outcome}}")],
      }),
      timeseries("Warm runs", {
        description:
          "Scheduled warm runs per spec.warm entry: warmed by one replica per interval, skipped by the others.",
        unit: "ops",
        queries: [
          q(
            sumBy(["entry", "outcome"], rate(sel(S.warmRuns, ...policyFilter), RATE)),
            "{{entry}} {{outcome}}",
          ),
        ],
      }),
    ],
  };
}

function store(): DashboardRow {
  const ops = suffixed(S.storeDuration, "_bucket");
  return {
    title: "Store: Redis and the in-process tier",
    panels: [
      timeseries("Store latency (p50, p99)", {
        description: "Cache store operation latency by store and operation.",
        unit: "s",
        queries: [
          q(
            quantile(0.5, ["store", "operation"], sel(ops, F.namespace), RATE),
            "p50 {{store}} {{operation}}",
          ),
          q(
            quantile(0.99, ["store", "operation"], sel(ops, F.namespace), RATE),
            "p99 {{store}} {{operation}}",
          ),
        ],
      }),
      timeseries("Store errors", {
        description: "Failed store operations (each served as a miss: fail open), by reason.",
        unit: "ops",
        queries: [
          q(
            sumBy(["store", "operation", "reason"], rate(sel(S.storeErrors, F.namespace), RATE)),
            "{{store}} {{operation}} {{reason}}",
          ),
        ],
      }),
      timeseries("Circuit breakers open", {
        description: "Sidecars whose store circuit is open (they skip Redis until it recovers).",
        unit: "short",
        min: 0,
        queries: [q(sumBy(["store"], sel(S.storeCircuitOpen, F.namespace)), "{{store}}")],
      }),
      timeseries("Pending invalidations", {
        description:
          "Tags and keys waiting to be applied to Redis (retried until it accepts them), and invalidations dropped because the queue overflowed: a pod that dropped some skips Redis reads until its queue drains.",
        unit: "short",
        min: 0,
        queries: [
          q(sumBy(["store"], sel(S.storePendingInvalidations, F.namespace)), "pending {{store}}"),
          q(
            sumBy(["store"], increase(sel(S.storeDroppedInvalidations, F.namespace), RATE)),
            "dropped {{store}}",
          ),
        ],
      }),
      timeseries("In-process tier (L1)", {
        description: "Bytes and entries held by the sidecars' in-process tier, per policy.",
        unit: "bytes",
        queries: [
          q(sumBy(["policy"], sel(S.l1Bytes, ...policyFilter)), "bytes {{policy}}"),
          q(sumBy(["policy"], sel(S.l1Entries, ...policyFilter)), "entries {{policy}}"),
        ],
      }),
      timeseries("L1 coherence across pods", {
        description:
          "Pods whose L1 invalidation channel is up (Redis pushes them every change; a pod whose channel is down does not use L1), pushed invalidations received and the L1 entries they dropped, L1 flushes by reason, L1 copies refused because the channel's lease lapsed (no heartbeat answered lately), and writes held until other pods' leases ran out (ADR 0018, a partition from Redis).",
        unit: "short",
        min: 0,
        queries: [
          q(
            sumBy(["policy"], sel(S.l1InvalidationChannelUp, ...policyFilter)),
            "pods with channel up {{policy}}",
          ),
          q(
            sumBy(["policy"], rate(sel(S.l1InvalidationMessages, ...policyFilter), RATE)),
            "messages/s {{policy}}",
          ),
          q(sumBy(["kind"], rate(sel(S.l1PushedInvalidations, ...policyFilter), RATE)), "pushed {{kind}}/s"),
          q(
            sumBy(["policy"], rate(sel(S.l1PushedEvictions, ...policyFilter), RATE)),
            "L1 drops/s {{policy}}",
          ),
          q(sumBy(["reason"], increase(sel(S.l1Flushes, ...policyFilter), RATE)), "flushes {{reason}}"),
          q(
            sumBy(["policy"], increase(sel(S.l1LeaseRefusals, ...policyFilter), RATE)),
            "L1 refused, lease lapsed {{policy}}",
          ),
          q(
            sumBy(["policy"], increase(sel(suffixed(S.writeHolds, "_count"), ...policyFilter), RATE)),
            "writes held {{policy}}",
          ),
        ],
      }),
    ],
  };
}

function invalidations(): DashboardRow {
  return {
    title: "Invalidations and configuration",
    panels: [
      timeseries("Invalidations by rule", {
        description: "Invalidations per second by rule (a policy rule, target-uri or admin) and source.",
        unit: "ops",
        queries: [
          q(
            sumBy(["rule", "source"], rate(sel(S.invalidations, ...policyFilter), RATE)),
            "{{rule}} ({{source}})",
          ),
        ],
      }),
      timeseries("Entries invalidated", {
        description: "Cache entries removed by invalidations per second.",
        unit: "ops",
        queries: [
          q(
            sumBy(["policy", "source"], rate(sel(S.invalidatedEntries, ...policyFilter), RATE)),
            "{{policy}} ({{source}})",
          ),
        ],
      }),
      timeseries("Config hashes in use", {
        description:
          "Sidecars per policy configuration hash: more than one line per policy means a rollout in progress.",
        unit: "short",
        queries: [
          q(
            sumBy(["policy", "config_hash"], sel(S.configInfo, ...policyFilter)),
            "{{policy}} {{config_hash}}",
          ),
        ],
      }),
      timeseries("Config reloads", {
        description: "Policy reloads by result; failures keep the last good policy.",
        unit: "ops",
        queries: [q(sumBy(["result"], rate(sel(S.configReloads, F.namespace), RATE)), "{{result}}")],
      }),
    ],
  };
}

export function sidecarRows(): DashboardRow[] {
  return [overview(), latency(), outcomes(), store(), invalidations()];
}
