/**
 * The operator rows of the dashboard: reconciles, the work queue, the injection webhook and its
 * certificate. The operator runs in its own namespace, so these panels ignore the namespace variable.
 */
import { lowerIsBetter, q, RATE, stat, timeseries } from "./dashboard-kit.js";
import type { DashboardRow } from "./dashboard-sidecar.js";
import { O, V } from "./names.js";
import { maxBy, orZero, quantile, rate, sel, suffixed, sumBy } from "./promql.js";

function controller(): DashboardRow {
  return {
    title: "Operator: reconciles",
    panels: [
      timeseries("Reconciles by result", {
        description: "CachePolicy reconciles per second by result (success, error, requeue).",
        unit: "ops",
        stacked: true,
        queries: [q(sumBy(["result"], rate(O.reconcile, RATE)), "{{result}}")],
      }),
      timeseries("Reconcile errors", {
        description: "Failed reconciles per second; see the CachePolicies' Events and the operator log.",
        unit: "ops",
        queries: [
          q(
            orZero(
              sumBy([], rate(sel(O.reconcile, `result="${V.reconcileError}"`), RATE)),
              sumBy([], rate(O.reconcile, RATE)),
            ),
            "errors",
          ),
        ],
        thresholds: lowerIsBetter(0.01, 0.1),
      }),
      timeseries("Reconcile duration (p50, p95)", {
        description: "Time one reconcile takes.",
        unit: "s",
        queries: [
          q(quantile(0.5, [], suffixed(O.reconcileDuration, "_bucket"), RATE), "p50"),
          q(quantile(0.95, [], suffixed(O.reconcileDuration, "_bucket"), RATE), "p95"),
        ],
      }),
      timeseries("Work queue depth and leader", {
        description:
          "Keys waiting in the work queue (with backoff), and how many replicas hold the lease (should be 1).",
        unit: "short",
        queries: [q(maxBy([], O.queueDepth), "queue depth"), q(sumBy([], O.leader), "leaders")],
      }),
      timeseries("Informer restarts", {
        description: "Watch/list restarts per resource; a steady stream means API-server or RBAC trouble.",
        unit: "ops",
        queries: [q(sumBy(["resource"], rate(O.informerRestarts, RATE)), "{{resource}}")],
      }),
    ],
  };
}

function webhook(): DashboardRow {
  return {
    title: "Operator: injection webhook",
    panels: [
      timeseries("Webhook latency (p50, p99)", {
        description: "Time the webhook takes to answer an AdmissionReview, by result.",
        unit: "s",
        queries: [
          q(quantile(0.5, ["result"], suffixed(O.webhookDuration, "_bucket"), RATE), "p50 {{result}}"),
          q(quantile(0.99, ["result"], suffixed(O.webhookDuration, "_bucket"), RATE), "p99 {{result}}"),
        ],
      }),
      timeseries("Injections by result", {
        description: "Pods seen by the webhook: injected, skipped (no matching policy, opted out) or error.",
        unit: "ops",
        stacked: true,
        queries: [q(sumBy(["result"], rate(O.injections, RATE)), "{{result}}")],
      }),
      stat("Webhook certificate expires in", {
        description:
          "Time until the serving certificate expires; rotation happens well before (alert below 7 days).",
        unit: "s",
        width: 12,
        height: 8,
        queries: [q(`min(${O.certificateExpiry}) - time()`, "expires in")],
        thresholds: [
          { value: null, color: "red" },
          { value: 7 * 24 * 3600, color: "orange" },
          { value: 14 * 24 * 3600, color: "green" },
        ],
      }),
    ],
  };
}

export function operatorRows(): DashboardRow[] {
  return [controller(), webhook()];
}
