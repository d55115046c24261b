import type { Logger } from "pino";
import type { StartSidecarOptions } from "./options.js";
import type { Coalescer } from "./proxy/coalescer.js";
import type { FillResult, ProxyContext } from "./proxy/context.js";
import { coherenceEvents } from "./proxy/pushed-invalidations.js";
import type { CompiledPolicy } from "./routing/compile-policy.js";
import { createStoreParts, type StoreParts } from "./store/create-store.js";
import { type Coordination, createRedisCoordination } from "./store/fill-lease.js";
import type { CacheStore } from "./store/types.js";
import { pendingInvalidationsObserver, type SidecarMetrics, storeObserver } from "./telemetry/metrics.js";
import { WarmLease } from "./warm/warm-lease.js";
import { Warmer } from "./warm/warmer.js";

/**
 * The store the policy and the Redis URL describe and, with Redis, the coordination the replicas
 * sharing it use (fill leases and warm leases, ADR 0019). A store passed in (`options.store`) is
 * used as it is, without coordination.
 */
export function buildSharedStore(
  policy: CompiledPolicy,
  options: StartSidecarOptions,
  using: StoreWiring,
): { readonly store: CacheStore; readonly coordination: Coordination | undefined } {
  if (options.store) return { store: options.store, coordination: undefined };
  const { log } = using;
  const parts = buildStore(policy, options, using);
  return { store: parts.store, coordination: coordinate(parts, policy, log) };
}

/** The warmer, warming each entry once per interval across the replicas when they share Redis. */
export function createWarmer(
  ctx: ProxyContext,
  coordination: Coordination | undefined,
  prefix: string,
): Warmer {
  return new Warmer(ctx, ctx.log, {
    lease: new WarmLease({ claims: coordination, prefix }),
    onRun: (label, entry, outcome) => ctx.metrics.warmRuns.labels(label, entry, outcome).inc(),
  });
}

/** What the store is wired to: metrics, log, clock, and the coalescer pushed invalidations detach. */
interface StoreWiring {
  readonly metrics: SidecarMetrics;
  readonly log: Logger;
  readonly now: () => number;
  readonly coalescer: Coalescer<FillResult>;
}

function buildStore(policy: CompiledPolicy, options: StartSidecarOptions, using: StoreWiring): StoreParts {
  const { metrics, log, now } = using;
  const reportPending = pendingInvalidationsObserver(metrics);
  const parts = createStoreParts({
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    keyPrefix: policy.store.keyPrefix,
    commandTimeoutMs: policy.store.commandTimeoutMs,
    memoryMaxBytes: policy.store.memoryMaxBytes,
    maxEntryAgeMs: policy.store.maxEntryAgeMs,
    onOperation: storeObserver(metrics),
    onCircuitStateChange: (state, name) =>
      metrics.storeCircuitOpen.labels(name).set(state === "closed" ? 0 : 1),
    pendingInvalidations: { onChange: reportPending },
    coherence: coherenceEvents(policy.label, metrics, using.coalescer as Coalescer<unknown>),
    onWriteHeld: (ms) => metrics.writeHolds.labels(policy.label).observe(ms / 1_000),
    logger: log,
    now,
  });
  // The queue reports on change only: start its series at 0 (a Redis-backed store has a queue), and
  // the write holds' too (observed only in the first moments of an outage).
  const pending = parts.store.stats().pendingInvalidations;
  if (pending !== undefined) {
    reportPending(pending);
    metrics.writeHolds.zero({ policy: policy.label });
  }
  return parts;
}

/** With Redis: leases shared by the replicas (cross-pod coalescing and warming once, ADR 0019). */
function coordinate(
  parts: { readonly redis?: StoreParts["redis"] },
  policy: CompiledPolicy,
  log: Logger,
): Coordination | undefined {
  const redis = parts.redis;
  if (redis === undefined) return undefined;
  return createRedisCoordination({
    client: redis.client,
    prefix: policy.store.keyPrefix,
    commandTimeoutMs: policy.store.commandTimeoutMs,
    available: () => !redis.circuit.isOpen,
    log,
  });
}
