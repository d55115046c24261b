import { ApicacheError, type ApicacheErrorOptions } from "@apicache/crds";

/**
 * Store errors: every failure a store can report carries a stable code (documented in
 * docs/errors.md, "Store errors") and a message that says what to do. Callers fail open: a
 * `StoreError` is a cache miss for the request, never the client's error.
 */
export const STORE_ERROR_CODES = [
  "APICACHE_ERR_STORE_TIMEOUT",
  "APICACHE_ERR_STORE_BULK_TIMEOUT",
  "APICACHE_ERR_STORE_UNAVAILABLE",
  "APICACHE_ERR_STORE_CIRCUIT_OPEN",
  "APICACHE_ERR_STORE_COMMAND",
  "APICACHE_ERR_STORE_SLOT_MOVED",
  "APICACHE_ERR_STORE_CLOSED",
  "APICACHE_ERR_STORE_URL_INVALID",
  "APICACHE_ERR_STORE_OPTIONS_INVALID",
] as const;

export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

/** Codes that mean "the backend is unreachable or too slow": they count toward opening the circuit. */
const BACKEND_FAILURES: ReadonlySet<StoreErrorCode> = new Set([
  "APICACHE_ERR_STORE_TIMEOUT",
  "APICACHE_ERR_STORE_UNAVAILABLE",
]);

/** The `reason` label of `apicache_store_errors_total` for each code. */
const REASONS: Readonly<Record<StoreErrorCode, string>> = {
  APICACHE_ERR_STORE_TIMEOUT: "timeout",
  APICACHE_ERR_STORE_BULK_TIMEOUT: "bulk_timeout",
  APICACHE_ERR_STORE_UNAVAILABLE: "unavailable",
  APICACHE_ERR_STORE_CIRCUIT_OPEN: "circuit_open",
  APICACHE_ERR_STORE_COMMAND: "command",
  APICACHE_ERR_STORE_SLOT_MOVED: "slot_moved",
  APICACHE_ERR_STORE_CLOSED: "closed",
  APICACHE_ERR_STORE_URL_INVALID: "config",
  APICACHE_ERR_STORE_OPTIONS_INVALID: "config",
};

/** A store's failure, in the one shape of crds/src/errors.ts (ADR 0032); its message starts with the code. */
export class StoreError extends ApicacheError<StoreErrorCode> {
  override readonly name = "StoreError";

  constructor(code: StoreErrorCode, message: string, options?: ApicacheErrorOptions) {
    super(code, `${code}: ${message}`, options);
  }

  /** Whether this failure says the backend is down or slow (counts toward the circuit breaker). */
  get isBackendFailure(): boolean {
    return BACKEND_FAILURES.has(this.code);
  }

  /** Low-cardinality reason label for metrics. */
  get reason(): string {
    return REASONS[this.code];
  }
}

export function isStoreError(error: unknown): error is StoreError {
  return error instanceof StoreError;
}

/** The metric reason for any error an operation rejected with. */
export function errorReason(error: unknown): string {
  return isStoreError(error) ? error.reason : "unknown";
}

export function storeTimeout(store: string, operation: string, ms: number): StoreError {
  return new StoreError(
    "APICACHE_ERR_STORE_TIMEOUT",
    `${store} ${operation} did not answer within ${ms} ms; the request is served from the upstream. ` +
      "Check Redis latency (SLOWLOG, CPU, network) or raise spec.store.redis.commandTimeout.",
  );
}

/**
 * A bulk operation (a tag invalidation over many entries) ran past its overall bound although every
 * command answered in time: Redis is alive, so this does not count toward the circuit breaker.
 */
export function storeBulkTimeout(store: string, operation: string, ms: number, done: number): StoreError {
  return new StoreError(
    "APICACHE_ERR_STORE_BULK_TIMEOUT",
    `${store} ${operation} removed ${done} entries but did not finish within ${ms} ms; the rest is retried. ` +
      "Tags indexing very many entries take long to invalidate: use narrower tags, or raise spec.store.redis.commandTimeout.",
  );
}

export function storeUnavailable(store: string, operation: string, cause: unknown): StoreError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StoreError(
    "APICACHE_ERR_STORE_UNAVAILABLE",
    `${store} ${operation} failed: ${detail}; the request is served from the upstream while the client reconnects. ` +
      "Check that Redis is running and reachable at the configured URL.",
    { cause },
  );
}

/**
 * A Redis Cluster answered `MOVED`/`ASK`: the command's slot has moved (a failover, a resharding) and
 * the client did not follow (ioredis follows only when every command of an auto-pipeline got the same
 * redirection). Redis is reachable, so this does not count toward the circuit breaker; an invalidation
 * that gets it is retried once the slots are refreshed.
 */
export function storeSlotMoved(store: string, operation: string, cause: unknown): StoreError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StoreError(
    "APICACHE_ERR_STORE_SLOT_MOVED",
    `${store} ${operation} was sent to a node that no longer serves its slot (${detail}); it is retried once the slots are refreshed. ` +
      "Expected during a Redis Cluster failover or resharding; if it persists, check CLUSTER NODES.",
    { cause },
  );
}

/**
 * Whether Redis itself answered the failed command with an error reply (MOVED/ASK, CLUSTERDOWN, LOADING,
 * READONLY, OOM, BUSY...), as opposed to a timeout, a lost connection or an open circuit: the
 * connection to Redis worked when the command was answered.
 */
export function answeredByRedis(error: unknown): boolean {
  if (!(error instanceof StoreError)) return false;
  if (error.code === "APICACHE_ERR_STORE_SLOT_MOVED") return true;
  const cause = (error as { cause?: unknown }).cause;
  return (
    error.code === "APICACHE_ERR_STORE_UNAVAILABLE" && cause instanceof Error && cause.name === "ReplyError"
  );
}

export function storeCommandFailed(store: string, operation: string, cause: unknown): StoreError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StoreError(
    "APICACHE_ERR_STORE_COMMAND",
    `${store} ${operation} was refused by Redis: ${detail}. ` +
      "Check Redis memory (maxmemory, eviction policy) and that no other program writes under this key prefix.",
    { cause },
  );
}

export function storeCircuitOpen(store: string, retryInMs: number): StoreError {
  return new StoreError(
    "APICACHE_ERR_STORE_CIRCUIT_OPEN",
    `${store} is skipped for ${Math.max(0, Math.ceil(retryInMs))} ms after repeated failures (circuit open); ` +
      "requests go to the upstream meanwhile. Look for the earlier APICACHE_ERR_STORE_TIMEOUT/UNAVAILABLE errors.",
  );
}

export function storeClosed(store: string, operation: string): StoreError {
  return new StoreError(
    "APICACHE_ERR_STORE_CLOSED",
    `${store} ${operation} was called after close(); this is a shutdown-ordering bug: stop serving before closing the store.`,
  );
}
