export { type CircuitBreakerOptions, CircuitBreakerStore, type CircuitState } from "./circuit-breaker.js";
export { type CreateStoreOptions, createStore } from "./create-store.js";
export {
  errorReason,
  isStoreError,
  STORE_ERROR_CODES,
  StoreError,
  type StoreErrorCode,
} from "./errors.js";
export { InstrumentedStore, type OperationObserver, type StoreOperation } from "./instrumented-store.js";
export {
  DEFAULT_INVALIDATION_RETRY,
  type InvalidationGuardOptions,
  InvalidationGuardStore,
  type PendingState,
} from "./invalidation-guard-store.js";
export { type MemoryEntry, MemoryStore, type MemoryStoreOptions } from "./memory-store.js";
export type { RedisBackedStore } from "./redis-backed-store.js";
export { createRedisClusterStore, type RedisClusterStoreOptions } from "./redis-cluster-store.js";
export {
  createRedisSentinelStore,
  type RedisSentinelStore,
  type RedisSentinelStoreOptions,
} from "./redis-sentinel-store.js";
export { createRedisStore, type RedisConnectionOptions, type RedisStoreOptions } from "./redis-store.js";
export {
  parseRedisUrl,
  REDIS_URL_FORMS,
  REDIS_URL_SCHEMES,
  type RedisTarget,
  redactRedisUrl,
  type SentinelTarget,
} from "./redis-url.js";
export { DEFAULT_MAX_ENTRY_AGE_MS, TieredStore, type TieredStoreOptions } from "./tiered-store.js";
export type { CacheStore, EntryStore, SetOptions, StoredEntry, StoreHealth, StoreStats } from "./types.js";
