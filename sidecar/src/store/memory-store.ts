import { LRUCache } from "lru-cache";
import { storeClosed } from "./errors.js";
import { LocalGenerations } from "./local-generations.js";
import { entryBytes, owned, TAG_SET_OVERHEAD_BYTES } from "./memory-store-bytes.js";
import type { EntryStore, Fence, SetOptions, StoredEntry, StoreHealth, StoreStats } from "./types.js";

export {
  BUFFER_OVERHEAD_BYTES,
  ENTRY_OVERHEAD_BYTES,
  entryBytes,
  owned,
  TAG_MEMBERSHIP_OVERHEAD_BYTES,
  TAG_SET_OVERHEAD_BYTES,
} from "./memory-store-bytes.js";

/**
 * The in-process store (L1): an LRU bounded by bytes with an exact tag index, on `lru-cache` (ADR 0033).
 *
 * - lru-cache keeps the LRU order and the entries' byte bound (`maxSize`; each entry's size is the
 *   `bytes` that `entryBytes` counts). A hit, a put and an eviction are O(1), and so is deleting the
 *   last entry: a cache that grew large is then replaced, not cleared (see `#delete`).
 * - The byte bound counts what entries hold resident (memory-store-bytes.ts): per entry its key, its
 *   body and the body's Buffer, its tags and a fixed overhead (lru-cache's own per-entry slots
 *   included), and per distinct tag its set in the index. It is an estimate fitted on a benchmark, not
 *   an exact measurement. lru-cache bounds the entries' bytes; the store evicts the least recently used
 *   entries further while the entries and the tag sets together exceed the bound.
 * - Expiry is this store's, not lru-cache's: an entry is live while the injected clock is before its
 *   `expiresAt`, exactly, on any clock and any TTL (fractions included). There are no timers: an
 *   expired entry leaves when it is read or evicted. lru-cache gets no TTLs, so it keeps no per-slot
 *   TTL and start arrays.
 * - The tag index (`Map<tag, Set<key>>`) only ever holds live keys: lru-cache's `dispose` hook, called
 *   synchronously for every entry that leaves (overwrite, delete, eviction, expiry), removes the key
 *   from its tags' sets and drops empty sets; the last entry of a replaced cache is untagged the same
 *   way. An overwrite replaces the entry's tags.
 * - Fences (see CacheStore.fence) are generations of this process's tag invalidations
 *   (local-generations.ts): a fenced `set` after one of its tags was invalidated stores nothing.
 */
export interface MemoryStoreOptions {
  readonly maxBytes: number;
  /** Clock in ms (default `Date.now`); tests inject one. */
  readonly now?: () => number;
  readonly name?: string;
}

export interface MemoryEntry {
  readonly value: Buffer;
  readonly tags: readonly string[];
  readonly expiresAt: number;
  /** When this copy was stored (or last confirmed against L2, in a tiered store). */
  readonly storedAt: number;
  readonly bytes: number;
}

/**
 * Up to this many entries, lru-cache's own clear (on deleting the last entry) refills its arrays in
 * about the time a new cache takes to build; above it, a new cache is cheaper.
 */
const SMALL_PEAK = 256;

export class MemoryStore implements EntryStore {
  readonly name: string;
  readonly maxBytes: number;
  readonly #now: () => number;
  #cache: LRUCache<string, MemoryEntry>;
  /** The bytes counted for the tag index's sets (`TAG_SET_OVERHEAD_BYTES` per distinct tag). */
  #tagSetBytes = 0;
  /** The most entries `#cache` has held: how long lru-cache's per-slot arrays have grown. */
  #peak = 0;
  readonly #tags = new Map<string, Set<string>>();
  readonly #generations = new LocalGenerations();
  #closed = false;

  constructor(options: MemoryStoreOptions) {
    this.name = options.name ?? "memory";
    this.maxBytes = options.maxBytes;
    this.#now = options.now ?? Date.now;
    this.#cache = this.#emptyCache();
  }

  /** Bytes currently retained (see the class comment for what counts). */
  get bytes(): number {
    return this.#cache.calculatedSize + this.#tagSetBytes;
  }

  get entries(): number {
    return this.#cache.size;
  }

  /** Number of distinct tags with at least one live key (for tests and stats). */
  get tagCount(): number {
    return this.#tags.size;
  }

  /** Synchronous lookup: the live entry (marked most recently used), or undefined. */
  lookup(key: string): MemoryEntry | undefined {
    const entry = this.#cache.get(key);
    if (entry === undefined || entry.expiresAt > this.#now()) return entry;
    this.#delete(key);
    return undefined;
  }

  /**
   * Synchronous write. `storedAt` defaults to now. A non-positive TTL or an entry larger than the
   * whole bound (with a set for each of its tags) stores nothing (and drops any previous entry for the key).
   */
  put(key: string, value: Buffer, options: SetOptions & { readonly storedAt?: number }): void {
    const bytes = entryBytes(key, value, options.tags);
    const tags = [...new Set(options.tags)];
    if (!(options.ttlMs > 0) || bytes + tags.length * TAG_SET_OVERHEAD_BYTES > this.maxBytes) {
      this.#delete(key);
      return;
    }
    const now = this.#now();
    const entry: MemoryEntry = {
      value: owned(value),
      tags,
      expiresAt: now + options.ttlMs,
      storedAt: options.storedAt ?? now,
      bytes,
    };
    // An overwrite disposes of the previous entry (and its tags) inside set: tag the new one after.
    this.#cache.set(key, entry);
    if (this.#cache.size > this.#peak) this.#peak = this.#cache.size;
    for (const tag of tags) {
      let keys = this.#tags.get(tag);
      if (keys === undefined) {
        keys = new Set();
        this.#tags.set(tag, keys);
        this.#tagSetBytes += TAG_SET_OVERHEAD_BYTES;
      }
      keys.add(key);
    }
    // lru-cache made room for the entry; new tag sets may need more. The new entry is the most recent:
    // it is never evicted here, and alone it fits with all its tags' sets (checked above).
    while (this.bytes > this.maxBytes && this.#cache.size > 1) this.#cache.pop();
  }

  /** Synchronous delete: how many of the keys held a live entry. */
  remove(keys: readonly string[]): number {
    const now = this.#now();
    let removed = 0;
    for (const key of keys) {
      const entry = this.#cache.peek(key);
      if (entry === undefined) continue;
      this.#delete(key);
      if (entry.expiresAt > now) removed++;
    }
    return removed;
  }

  /** Synchronous tag delete: how many live entries carried any of the tags. */
  removeTags(tags: readonly string[]): number {
    this.#generations.bump(tags);
    const keys = new Set<string>();
    for (const tag of tags) {
      for (const key of this.#tags.get(tag) ?? []) keys.add(key);
    }
    return this.remove([...keys]);
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.#assertOpen("get");
    return this.lookup(key)?.value;
  }

  async getEntry(key: string): Promise<StoredEntry | undefined> {
    this.#assertOpen("get");
    const entry = this.lookup(key);
    if (entry === undefined) return undefined;
    return { value: entry.value, ttlMs: entry.expiresAt - this.#now(), tags: entry.tags };
  }

  async fence(tags: readonly string[]): Promise<Fence> {
    this.#assertOpen("fence");
    const sorted = [...new Set(tags)].sort();
    return { tags: sorted, generations: [String(this.#generations.current)], takenAt: performance.now() };
  }

  async set(key: string, value: Buffer, options: SetOptions): Promise<boolean> {
    this.#assertOpen("set");
    const fence = options.fence;
    const since = fence?.generations?.length === 1 ? Number(fence.generations[0]) : undefined;
    if (fence && since !== undefined && this.#generations.movedSince(since, fence.tags)) return false;
    this.put(key, value, options);
    return true;
  }

  async delete(keys: readonly string[]): Promise<number> {
    this.#assertOpen("delete");
    return this.remove(keys);
  }

  async deleteTags(tags: readonly string[]): Promise<number> {
    this.#assertOpen("delete_tags");
    return this.removeTags(tags);
  }

  health(): StoreHealth {
    return this.#closed ? { ok: false, detail: "closed" } : { ok: true };
  }

  stats(): StoreStats {
    return { l1: { bytes: this.bytes, entries: this.#cache.size } };
  }

  /** Drops every entry (the bound stays). */
  clear(): void {
    this.#tags.clear();
    this.#tagSetBytes = 0;
    this.#cache = this.#emptyCache();
    this.#peak = 0;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.clear();
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw storeClosed(this.name, operation);
  }

  #emptyCache(): LRUCache<string, MemoryEntry> {
    return new LRUCache<string, MemoryEntry>({
      // lru-cache needs a positive bound; a store whose bound is below one entry stores nothing (put).
      maxSize: Math.max(1, Math.floor(this.maxBytes)),
      sizeCalculation: (entry) => entry.bytes,
      dispose: (entry, key) => this.#untag(key, entry),
    });
  }

  /**
   * Deletes one key. lru-cache's `delete` of a cache's only entry runs its `clear`, which refills every
   * per-slot array over the longest length the cache ever had: O(peak entries), ~1 ms after a peak of
   * 200,000 (ADR 0033). So once the cache has held more than `SMALL_PEAK` entries, its last entry is
   * dropped with the whole cache: a new, empty one (~1.3 µs to build) replaces it.
   */
  #delete(key: string): void {
    if (this.#cache.size !== 1 || this.#peak <= SMALL_PEAK) {
      this.#cache.delete(key);
      return;
    }
    const entry = this.#cache.peek(key);
    if (entry === undefined) return;
    this.#cache = this.#emptyCache();
    this.#peak = 0;
    this.#untag(key, entry);
  }

  #untag(key: string, entry: MemoryEntry): void {
    for (const tag of entry.tags) {
      const keys = this.#tags.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size > 0) continue;
      this.#tags.delete(tag);
      this.#tagSetBytes -= TAG_SET_OVERHEAD_BYTES;
    }
  }
}
