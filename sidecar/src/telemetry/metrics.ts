import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { type BoundCounter, type BoundHistogram, bindCounter, bindHistogram } from "./bound-series.js";
import {
  CONFIG_RELOAD_RESULTS,
  L1_FLUSH_REASONS,
  type MetricDefinition,
  SIDECAR_METRICS,
  type SidecarMetricKey,
} from "./metric-names.js";

/**
 * The sidecar's one prom-client registry, built from metric-names.ts: one prom-client metric per
 * definition, of the definition's type, under the same key. Hot-path users bind label values once (see
 * RequestMetrics) instead of hashing labels per request.
 */
type Built<D extends MetricDefinition> = D["type"] extends "counter"
  ? Counter<string>
  : D["type"] extends "gauge"
    ? Gauge<string>
    : Histogram<string>;

export type SidecarMetrics = { readonly registry: Registry } & {
  readonly [K in SidecarMetricKey]: Built<(typeof SIDECAR_METRICS)[K]>;
};

export function createMetrics(options: { collectDefault?: boolean } = {}): SidecarMetrics {
  const registry = new Registry();
  const build = (definition: MetricDefinition) => {
    const config = {
      name: definition.name,
      help: definition.help,
      labelNames: [...definition.labels],
      registers: [registry],
    };
    if (definition.type === "counter") return new Counter(config);
    if (definition.type === "gauge") return new Gauge(config);
    return new Histogram({ ...config, buckets: [...(definition.buckets ?? [])] });
  };
  const built = Object.entries(SIDECAR_METRICS).map(([key, definition]) => [key, build(definition)]);
  const metrics = { registry, ...Object.fromEntries(built) } as SidecarMetrics;
  for (const result of CONFIG_RELOAD_RESULTS) metrics.configReloads.labels(result).inc(0);
  if (options.collectDefault) {
    // Process metrics (CPU, memory, event loop lag) under the standard names.
    collectDefaultMetrics({ register: registry });
  }
  return metrics;
}

/** Store observer for the stores' instrumentation decorator (durations bound per store and operation). */
export function storeObserver(metrics: SidecarMetrics) {
  const durations = new Map<string, BoundHistogram>();
  return (store: string, operation: string, seconds: number, errorReason?: string): void => {
    const id = `${store}\0${operation}`;
    let duration = durations.get(id);
    if (duration === undefined) {
      duration = bindHistogram(metrics.storeDuration, [store, operation]);
      durations.set(id, duration);
    }
    duration.observe(seconds);
    if (errorReason !== undefined) metrics.storeErrors.labels(store, operation, errorReason).inc();
  };
}

/** What the store's pending-invalidation queue reports (its state, and how many it dropped just now). */
export interface PendingInvalidationsReport {
  readonly store: string;
  readonly pending: number;
  readonly dropped?: number;
}

/**
 * Observer for the store's pending-invalidation queue: sets the pending gauge and adds what was dropped
 * to the counter. Each report creates both series (the counter at 0), so `increase()` sees the first drop.
 */
export function pendingInvalidationsObserver(metrics: SidecarMetrics) {
  return (report: PendingInvalidationsReport): void => {
    metrics.storePendingInvalidations.labels(report.store).set(report.pending);
    metrics.storeDroppedInvalidations.labels(report.store).inc(Math.max(0, report.dropped ?? 0));
  };
}

/** What RequestMetrics reads of a finished request: its labels and duration (a RequestRecord is one). */
export interface MeasuredRequest {
  readonly policy: string;
  readonly route: string;
  readonly method: string;
  readonly seconds: number;
}

interface BoundRequest {
  readonly count: BoundCounter;
  readonly duration: BoundHistogram;
}

/** Per-request counters with label values bound once per (policy, route, method, outcome). */
export class RequestMetrics {
  readonly #metrics: SidecarMetrics;
  readonly #bound = new Map<string, BoundRequest>();

  constructor(metrics: SidecarMetrics) {
    this.#metrics = metrics;
  }

  /** Counts a finished request (its labels, and how long it took) under its outcome label. */
  record(request: MeasuredRequest, outcome: string): void {
    const { policy, route, method, seconds } = request;
    const id = `${policy}\0${route}\0${method}\0${outcome}`;
    let bound = this.#bound.get(id);
    if (bound === undefined) {
      if (this.#bound.size > 10_000) this.#bound.clear();
      bound = {
        count: bindCounter(this.#metrics.requests, [policy, route, method, outcome]),
        duration: bindHistogram(this.#metrics.requestDuration, [policy, route, outcome]),
      };
      this.#bound.set(id, bound);
    }
    bound.count.inc();
    bound.duration.observe(seconds);
  }
}

/** What L1 coherence reports (store/l1-coherence.ts's CoherenceEvents, by shape). */
interface PushedNames {
  readonly kind: string;
  readonly keys?: readonly string[];
  readonly tags?: readonly string[];
}

/**
 * Observer for L1 coherence (ADR 0018): the channel gauge, pushed messages and the names they carried,
 * the L1 entries they dropped, and flushes by reason. Creates every series at once (the gauge at 0:
 * the channel is down until armed), so `increase()` sees the first event.
 */
export function l1CoherenceObserver(metrics: SidecarMetrics, policy: string) {
  const up = metrics.l1InvalidationChannelUp.labels(policy);
  up.set(0);
  const messages = metrics.l1InvalidationMessages.labels(policy);
  const entries = metrics.l1PushedInvalidations.labels(policy, "entry");
  const tags = metrics.l1PushedInvalidations.labels(policy, "tag");
  const evictions = metrics.l1PushedEvictions.labels(policy);
  for (const counter of [messages, entries, tags, evictions]) counter.inc(0);
  for (const reason of L1_FLUSH_REASONS) metrics.l1Flushes.labels(policy, reason).inc(0);
  const refusals = metrics.l1LeaseRefusals.labels(policy);
  refusals.inc(0);
  return {
    onLeaseRefusal(): void {
      refusals.inc();
    },
    onInvalidation(invalidation: PushedNames, dropped: number): void {
      messages.inc();
      entries.inc(invalidation.keys?.length ?? 0);
      tags.inc(invalidation.tags?.length ?? 0);
      evictions.inc(dropped);
    },
    onFlush(reason: string, _dropped: number): void {
      metrics.l1Flushes.labels(policy, reason).inc();
    },
    onChannel(isUp: boolean): void {
      up.set(isUp ? 1 : 0);
    },
  };
}
