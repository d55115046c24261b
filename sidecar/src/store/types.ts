/**
 * The one narrow interface every cache store implements: memory (L1, the embedded default), Redis
 * standalone, Redis Cluster, and the tiered L1+L2 combination. Values are opaque bytes (the data path
 * owns the entry codec); tags are exact sets of keys, never patterns. One contract test suite
 * (sidecar/test/store-contract.ts) runs against every implementation.
 *
 * Failure semantics: an operation that cannot complete in time or reach its backend rejects with a
 * `StoreError` (stable code). Callers fail open: a store error is a cache miss, never a client error.
 */
export interface CacheStore {
  /** "memory", "redis", "redis-cluster", "redis-sentinel", "tiered" — labels metrics and logs. */
  readonly name: string;
  /**
   * The stored value, or undefined when absent, expired, or invalidated: a value is never returned
   * once a tag it was stored with has been invalidated, whatever keys the backend lost meanwhile.
   */
  get(key: string, options?: GetOptions): Promise<Buffer | undefined>;
  /**
   * Stores a value for `ttlMs` (> 0) and records the key under each tag. Resolves to false when the
   * value was not stored because `options.fence` shows that one of its tags was invalidated since the
   * fence was taken (the value may predate a write); true otherwise.
   */
  set(key: string, value: Buffer, options: SetOptions): Promise<boolean>;
  /** Removes keys; resolves to how many existed. */
  delete(keys: readonly string[]): Promise<number>;
  /** Removes every key recorded under any of the tags; resolves to how many entries were removed. */
  deleteTags(tags: readonly string[]): Promise<number>;
  /**
   * Taken before a cache fill reads the upstream, passed to `set` with the fill's result: `set` then
   * stores only if no tag was invalidated in between, by any pod sharing the store (the read may
   * predate that write). Rejects with a StoreError like any operation; a fill without a fence stores
   * unconditionally. Stores that only serve one process return a fence `set` ignores: the data
   * path's own invalidation log covers in-process writes.
   */
  fence(tags: readonly string[]): Promise<Fence>;
  /** Whether the backend is usable now (readiness, circuit state). */
  health(): StoreHealth;
  /** Releases connections and timers. */
  close(): Promise<void>;
  /** Gauges: L1 size and circuit state (optional; every apicache store implements it). */
  stats?(): StoreStats;
}

export interface GetOptions {
  /**
   * The tags the caller expects the entry to carry (the request's route and path tags): a store that
   * validates entries against its tags' generations reads these in the same round trip as the entry.
   * A hint only: tags the entry carries beyond these are checked as well, at the cost of one more
   * round trip.
   */
  readonly tags?: readonly string[];
  /**
   * Read the shared tier even when this pod holds a recent copy (tiered store: its L1): another pod
   * has just stored the entry there (cross-pod coalescing, ADR 0019).
   */
  readonly shared?: boolean;
}

export interface SetOptions {
  readonly ttlMs: number;
  readonly tags: readonly string[];
  /** From `fence(tags)` before the value was fetched: store only if none of them was invalidated since. */
  readonly fence?: Fence;
}

/**
 * What a store knew about some tags' invalidations at one moment (see CacheStore.fence). Opaque to
 * callers: the store that took it reads it back in `set`.
 */
export interface Fence {
  /** The tags, de-duplicated and sorted. */
  readonly tags: readonly string[];
  /** Each tag's invalidation generation ("" when never invalidated); absent for local-only stores. */
  readonly generations?: readonly string[];
  /** performance.now() when taken: a fence too old to be checked refuses the set. */
  readonly takenAt: number;
  /**
   * The shared tier could not be asked (Redis unreachable, circuit open): the fill may predate a
   * write no one can rule out, so shared stores refuse the set; the tiered store keeps it in L1 only
   * (fail open, bounded by maxEntryAge as any L1 copy).
   */
  readonly unavailable?: true;
}

export interface StoreHealth {
  readonly ok: boolean;
  /** Short reason when not ok, e.g. "circuit open", "connecting". */
  readonly detail?: string;
}

/**
 * Optional introspection for gauges (`apicache_l1_bytes`, `apicache_l1_entries`,
 * `apicache_store_circuit_open`). Added to `CacheStore` as an optional method; every apicache store
 * implements it and decorators forward it.
 */
export interface StoreStats {
  /** The in-process tier (L1), when the store has one. */
  readonly l1?: { readonly bytes: number; readonly entries: number };
  /** The shared tier (L2) behind a circuit breaker, when there is one. */
  readonly circuit?: { readonly store: string; readonly open: boolean };
  /** Invalidations the shared tier has not accepted yet (see pending-invalidations.ts). */
  readonly pendingInvalidations?: {
    readonly store: string;
    readonly pending: number;
    /** Whether L2 reads are bypassed because the queue overflowed and has not drained yet. */
    readonly bypassingReads: boolean;
  };
}

/** A stored value with what is left of its lifetime and the tags it was stored with. */
export interface StoredEntry {
  readonly value: Buffer;
  /** Remaining lifetime in ms (> 0). */
  readonly ttlMs: number;
  readonly tags: readonly string[];
  /**
   * When the entry was written (the writer's clock, ms), where the store records it (Redis does; 0
   * for entries from before it did). The pending-invalidation guard compares it to its horizon.
   */
  readonly writtenAt?: number;
}

/**
 * A store that can also say how long an entry has left and which tags it carries: what the tiered
 * store needs from L2 to populate L1 faithfully. All apicache stores implement it.
 */
export interface EntryStore extends CacheStore {
  getEntry(key: string, options?: GetOptions): Promise<StoredEntry | undefined>;
  stats(): StoreStats;
}
