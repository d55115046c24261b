import { storeClosed } from "../src/store/errors.js";
import { LocalGenerations } from "../src/store/local-generations.js";
import { entryBytes, type MemoryEntry, type MemoryStoreOptions, owned } from "../src/store/memory-store.js";
import type {
  EntryStore,
  Fence,
  SetOptions,
  StoredEntry,
  StoreHealth,
  StoreStats,
} from "../src/store/types.js";

/**
 * The hand-written L1 the sidecar used before ADR 0033, kept as the baseline of l1-lru-bench.ts so the
 * ADR's comparison can be rerun. Not shipped: the sidecar's `MemoryStore` (src/store/memory-store.ts)
 * is on lru-cache. Same contract, same byte counting per entry (`entryBytes`); since review s25
 * `MemoryStore` also counts each distinct tag's set (`TAG_SET_OVERHEAD_BYTES`) and this store does not,
 * so under one bound it holds more entries when their tags are unique.
 *
 * - LRU order is the insertion order of one `Map` (oldest first); a hit moves the key to the end (three
 *   hash operations). Evicting is not O(1): the oldest entry is found by iterating the Map from its
 *   first slot, stepping over the slots deleted since V8 last compacted the table, so an eviction costs
 *   more the more entries the store holds (ADR 0033 measured it).
 * - Expiry is checked on read against the injected clock; expired entries also leave when the LRU
 *   evicts them. The tag index only ever holds live keys.
 */
export class HandWrittenMemoryStore implements EntryStore {
  readonly name: string;
  readonly maxBytes: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #tags = new Map<string, Set<string>>();
  readonly #generations = new LocalGenerations();
  #bytes = 0;
  #closed = false;

  constructor(options: MemoryStoreOptions) {
    this.name = options.name ?? "memory";
    this.maxBytes = options.maxBytes;
    this.#now = options.now ?? Date.now;
  }

  /** Bytes currently retained (see the class comment for what counts). */
  get bytes(): number {
    return this.#bytes;
  }

  get entries(): number {
    return this.#entries.size;
  }

  /** Number of distinct tags with at least one live key (for tests and stats). */
  get tagCount(): number {
    return this.#tags.size;
  }

  /** Synchronous lookup: the live entry (marked most recently used), or undefined. */
  lookup(key: string): MemoryEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#remove(key, entry);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * Synchronous write. `storedAt` defaults to now. A non-positive TTL or a value larger than the
   * whole bound stores nothing (and drops any previous entry for the key).
   */
  put(key: string, value: Buffer, options: SetOptions & { readonly storedAt?: number }): void {
    const previous = this.#entries.get(key);
    if (previous !== undefined) this.#remove(key, previous);
    const now = this.#now();
    const bytes = entryBytes(key, value, options.tags);
    if (!(options.ttlMs > 0) || bytes > this.maxBytes) return;
    const tags = [...new Set(options.tags)];
    const entry: MemoryEntry = {
      value: owned(value),
      tags,
      expiresAt: now + options.ttlMs,
      storedAt: options.storedAt ?? now,
      bytes,
    };
    this.#entries.set(key, entry);
    this.#bytes += bytes;
    for (const tag of tags) {
      let keys = this.#tags.get(tag);
      if (keys === undefined) {
        keys = new Set();
        this.#tags.set(tag, keys);
      }
      keys.add(key);
    }
    this.#evictOverflow();
  }

  /** Synchronous delete: how many of the keys held a live entry. */
  remove(keys: readonly string[]): number {
    const now = this.#now();
    let removed = 0;
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry === undefined) continue;
      if (entry.expiresAt > now) removed++;
      this.#remove(key, entry);
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
    return { l1: { bytes: this.#bytes, entries: this.#entries.size } };
  }

  /** Drops every entry (the bound stays). */
  clear(): void {
    this.#entries.clear();
    this.#tags.clear();
    this.#bytes = 0;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.clear();
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw storeClosed(this.name, operation);
  }

  #evictOverflow(): void {
    while (this.#bytes > this.maxBytes) {
      const oldest = this.#entries.entries().next();
      if (oldest.done) return;
      this.#remove(oldest.value[0], oldest.value[1]);
    }
  }

  #remove(key: string, entry: MemoryEntry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    for (const tag of entry.tags) {
      const keys = this.#tags.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.#tags.delete(tag);
    }
  }
}
