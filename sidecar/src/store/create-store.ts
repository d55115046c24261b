import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { CircuitBreakerStore, type CircuitState } from "./circuit-breaker.js";
import { StoreError } from "./errors.js";
import { InstrumentedStore, type OperationObserver } from "./instrumented-store.js";
import { DEFAULT_LEASE_MS } from "./invalidation-channel.js";
import { InvalidationGuardStore, type PendingState, type WriteHold } from "./invalidation-guard-store.js";
import { type CoherenceEvents, L1Coherence } from "./l1-coherence.js";
import { createInvalidationChannel } from "./l1-invalidation-connections.js";
import { MemoryStore } from "./memory-store.js";
import type { ReconnectOptions } from "./reconnect.js";
import type { RedisBackedStore } from "./redis-backed-store.js";
import { createRedisClusterStore } from "./redis-cluster-store.js";
import { validateKeyPrefix } from "./redis-layout.js";
import { createRedisSentinelStore } from "./redis-sentinel-store.js";
import { createRedisStore } from "./redis-store.js";
import { parseRedisUrl, type RedisTarget } from "./redis-url.js";
import { TieredStore } from "./tiered-store.js";
import type { EntryStore } from "./types.js";
import { DEFAULT_WRITE_HOLD_MARGIN_MS } from "./write-hold.js";

export interface CreateStoreOptions {
  /** `redis://…`, `rediss://…`, `redis+cluster://h1:p1,h2:p2,…` or `redis+sentinel://s1:p1,s2:p2/name`; absent: in-memory store only. */
  readonly redisUrl?: string;
  /** Prefix of every Redis key (spec.store.redis.keyPrefix, default `<namespace>/<name>`). */
  readonly keyPrefix: string;
  /** Per-command Redis timeout (spec.store.redis.commandTimeout, default 50 ms). */
  readonly commandTimeoutMs: number;
  /** Bound of the in-process tier (spec.store.memory.maxBytes). */
  readonly memoryMaxBytes: number;
  /** Longest an L1 copy is served without asking Redis (spec.store.memory.maxEntryAge); 0: no L1 in front of Redis. */
  readonly maxEntryAgeMs: number;
  readonly onOperation?: OperationObserver;
  readonly logger?: Logger;
  readonly now?: () => number;
  /** Additive: circuit breaker tuning (defaults: 5 consecutive failures, 1 s cool-down). */
  readonly circuit?: { readonly failureThreshold?: number; readonly coolDownMs?: number };
  /** Additive: called when the Redis circuit changes state (`apicache_store_circuit_open`, logs). */
  readonly onCircuitStateChange?: (state: CircuitState, store: string) => void;
  /** Additive: reconnect backoff (defaults: 50 ms doubling to 2 s, with jitter). */
  readonly reconnect?: ReconnectOptions;
  /**
   * Additive: invalidations Redis did not accept are queued and retried (see
   * invalidation-guard-store.ts). Defaults: 10,000 tags + keys, retry 100 ms doubling to 5 s.
   */
  readonly pendingInvalidations?: {
    readonly maxPending?: number;
    readonly retry?: ReconnectOptions;
    readonly onChange?: (state: PendingState) => void;
  };
  /**
   * Additive: L1 coherence events (pushed invalidations, flushes, the channel going up or down; ADR
   * 0018). Only with Redis and an L1 tier.
   */
  readonly coherence?: CoherenceEvents;
  /** Additive: a write was held this long (ms) for replicas' L1 leases to run out (write-hold.ts). */
  readonly onWriteHeld?: (ms: number) => void;
}

/**
 * Builds the store the sidecar uses:
 * - no URL: memory (LRU by bytes);
 * - `redis://`/`rediss://`: tiered(memory, guard(breaker(redis)));
 * - `redis+cluster://`: tiered(memory, guard(breaker(cluster)));
 * - `redis+sentinel://`: tiered(memory, guard(breaker(sentinel))), the primary the sentinels name;
 * - with `maxEntryAgeMs` 0 or `memoryMaxBytes` 0 the L1 tier is left out: guard(breaker(redis)) alone.
 * - with an L1 tier in front of Redis, Redis pushes every change of a tag generation (and key mark) to an
 *   invalidation channel that keeps L1 coherent (ADR 0018): L1 serves only while it is up.
 * The guard queues invalidations Redis did not accept and masks what they concern until applied.
 * With `onOperation`, the outer store reports as itself ("memory" or "tiered") and the Redis tier
 * reports as "redis"/"redis-cluster"/"redis-sentinel" (circuit-open rejections included, with reason circuit_open).
 * Throws a `StoreError` (APICACHE_ERR_STORE_URL_INVALID / _OPTIONS_INVALID) on bad input.
 */
export function createStore(options: CreateStoreOptions): EntryStore {
  return createStoreParts(options).store;
}

/** The store, and (with Redis) the Redis client under it and its circuit: what leases use (ADR 0019). */
export interface StoreParts {
  readonly store: EntryStore;
  readonly redis?: { readonly client: Redis | Cluster; readonly circuit: CircuitBreakerStore };
}

export function createStoreParts(options: CreateStoreOptions): StoreParts {
  validateOptions(options);
  const instrument = (store: EntryStore): EntryStore =>
    options.onOperation === undefined ? store : new InstrumentedStore(store, options.onOperation);
  const now = options.now ?? Date.now;
  const memory = (): MemoryStore => new MemoryStore({ maxBytes: options.memoryMaxBytes, now });
  if (options.redisUrl === undefined || options.redisUrl === "") return { store: instrument(memory()) };

  const target = parseRedisUrl(options.redisUrl);
  const { store: backend, client } = redisFor(target, options);
  const breaker = new CircuitBreakerStore(backend, {
    ...options.circuit,
    now,
    ...(options.onCircuitStateChange === undefined ? {} : { onStateChange: options.onCircuitStateChange }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const redis = { client, circuit: breaker };
  if (!hasL1(options)) return { store: guard(instrument(breaker), options, now), redis };
  const l1 = memory();
  let guarded: InvalidationGuardStore | undefined;
  const events = options.coherence ?? {};
  const coherence = new L1Coherence({
    target: l1,
    leaseMs: DEFAULT_LEASE_MS,
    events: {
      ...events,
      onChannel(up) {
        events.onChannel?.(up);
        if (!up) return;
        // Redis is heard again: the circuit need not wait out its cool-down, nor the pending
        // invalidations their backoff (replicas serve L1 from now on: what is queued must reach Redis).
        breaker.probeNow();
        guarded?.retryNow();
      },
      onLeaseRenewed() {
        events.onLeaseRenewed?.();
        // The same after a partition shorter than the channel's silence (no channel went down), at
        // most once per lease (a lease flapping in a brownout must not defeat the breaker).
        guarded?.heardAgain();
      },
    },
  });
  // Every replica keeps L1 under that lease: a write whose invalidation Redis did not take is held
  // until the replicas that cannot hear Redis have stopped serving L1 (write-hold.ts).
  const hold: WriteHold = {
    options: {
      leaseMs: coherence.leaseMs,
      commandTimeoutMs: options.commandTimeoutMs,
      marginMs: DEFAULT_WRITE_HOLD_MARGIN_MS,
    },
    clock: () => coherence.mark(),
    channelDownSince: () => coherence.downSince,
    hearsRedis: () => coherence.serving,
    probe: () => breaker.probeNow(),
    ...(options.onWriteHeld === undefined ? {} : { onHeld: options.onWriteHeld }),
  };
  guarded = guard(instrument(breaker), options, now, hold);
  const l2 = guarded;
  const channel = createInvalidationChannel({
    target,
    keyPrefix: options.keyPrefix,
    coherence,
    client,
    commandTimeoutMs: options.commandTimeoutMs,
    ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const tiered = new TieredStore({
    l1,
    l2,
    maxEntryAgeMs: options.maxEntryAgeMs,
    now,
    coherence,
    onClose: () => channel.close(),
  });
  return { store: instrument(tiered), redis };
}

/** Whether an L1 tier sits in front of Redis (kept coherent by Redis's pushes, ADR 0018). */
function hasL1(options: CreateStoreOptions): boolean {
  return options.maxEntryAgeMs !== 0 && options.memoryMaxBytes !== 0;
}

function guard(
  l2: EntryStore,
  options: CreateStoreOptions,
  now: () => number,
  hold?: WriteHold,
): InvalidationGuardStore {
  const pending = options.pendingInvalidations;
  return new InvalidationGuardStore(l2, {
    now,
    ...(hold === undefined ? {} : { hold }),
    // A write waits this long for Redis to take its invalidation (other pods learn of it only then).
    settleWithinMs: Math.max(200, 4 * options.commandTimeoutMs),
    ...(pending?.maxPending === undefined ? {} : { maxPending: pending.maxPending }),
    ...(pending?.retry === undefined ? {} : { retry: pending.retry }),
    ...(pending?.onChange === undefined ? {} : { onChange: pending.onChange }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}

/** The Redis tier for the URL's target, and the client under it (leases use it too). */
function redisFor(
  target: RedisTarget,
  options: CreateStoreOptions,
): { readonly store: EntryStore; readonly client: Redis | Cluster } {
  const common = {
    keyPrefix: options.keyPrefix,
    commandTimeoutMs: options.commandTimeoutMs,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.now === undefined ? {} : { now: options.now }),
    tls: target.tls,
  };
  if (target.kind === "sentinel") {
    return createRedisSentinelStore({
      ...common,
      sentinels: target.sentinels,
      primaryName: target.primaryName,
      db: target.db,
      ...(target.sentinelUsername === undefined ? {} : { sentinelUsername: target.sentinelUsername }),
      ...(target.sentinelPassword === undefined ? {} : { sentinelPassword: target.sentinelPassword }),
    });
  }
  const backend: RedisBackedStore =
    target.kind === "cluster"
      ? createRedisClusterStore({ ...common, nodes: target.nodes })
      : createRedisStore({ ...common, node: target.node, db: target.db });
  return { store: backend, client: backend.client };
}

function validateOptions(options: CreateStoreOptions): void {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(problem);
  };
  check(
    Number.isFinite(options.commandTimeoutMs) && options.commandTimeoutMs > 0,
    `commandTimeoutMs must be a positive number of milliseconds (got ${options.commandTimeoutMs})`,
  );
  check(
    Number.isSafeInteger(options.memoryMaxBytes) && options.memoryMaxBytes >= 0,
    `memoryMaxBytes must be a whole number of bytes ≥ 0 (got ${options.memoryMaxBytes})`,
  );
  check(
    Number.isFinite(options.maxEntryAgeMs) && options.maxEntryAgeMs >= 0,
    `maxEntryAgeMs must be ≥ 0 milliseconds (got ${options.maxEntryAgeMs})`,
  );
  if (options.redisUrl) {
    try {
      validateKeyPrefix(options.keyPrefix);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) {
    throw new StoreError(
      "APICACHE_ERR_STORE_OPTIONS_INVALID",
      `store options are invalid: ${problems.join("; ")}. Fix spec.store in the CachePolicy.`,
    );
  }
}
