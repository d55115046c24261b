import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { OPERATOR_METRICS } from "./metric-names.js";

/** The operator's one registry, with every metric of metric-names.ts registered. */
export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<"result">;
  readonly reconcileDuration: Histogram;
  readonly queueDepth: Gauge;
  readonly webhookDuration: Histogram<"result">;
  readonly injectionsTotal: Counter<"result">;
  readonly certificateExpiry: Gauge;
  readonly leader: Gauge;
  readonly podsNotInjected: Gauge;
  readonly informerRestarts: Counter<"resource">;
}

const M = OPERATOR_METRICS;

export function createMetrics(): OperatorMetrics {
  const registry = new Registry();
  const registers = [registry];
  const labelNames = (m: { labels: readonly string[] }) => [...m.labels];
  const metrics: OperatorMetrics = {
    registry,
    reconcileTotal: new Counter({
      name: M.reconcileTotal.name,
      help: M.reconcileTotal.help,
      labelNames: labelNames(M.reconcileTotal),
      registers,
    }),
    reconcileDuration: new Histogram({
      name: M.reconcileDuration.name,
      help: M.reconcileDuration.help,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({ name: M.queueDepth.name, help: M.queueDepth.help, registers }),
    webhookDuration: new Histogram({
      name: M.webhookDuration.name,
      help: M.webhookDuration.help,
      labelNames: labelNames(M.webhookDuration),
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    injectionsTotal: new Counter({
      name: M.injectionsTotal.name,
      help: M.injectionsTotal.help,
      labelNames: labelNames(M.injectionsTotal),
      registers,
    }),
    certificateExpiry: new Gauge({
      name: M.certificateExpiry.name,
      help: M.certificateExpiry.help,
      registers,
    }),
    leader: new Gauge({ name: M.leader.name, help: M.leader.help, registers }),
    podsNotInjected: new Gauge({ name: M.podsNotInjected.name, help: M.podsNotInjected.help, registers }),
    informerRestarts: new Counter({
      name: M.informerRestarts.name,
      help: M.informerRestarts.help,
      labelNames: labelNames(M.informerRestarts),
      registers,
    }),
  };
  metrics.leader.set(0);
  return metrics;
}
