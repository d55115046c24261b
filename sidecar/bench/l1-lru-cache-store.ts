import { LRUCache } from "lru-cache";
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
 * The L1 on `lru-cache`, the challenger of l1-lru-bench.ts (ADR 0033): the same contract as the
 * hand-written `MemoryStore` (src/store/memory-store.ts), which the sidecar keeps. Not shipped.
 *
 * - lru-cache keeps the LRU order, the byte bound (`maxSize`, each entry's `sizeCalculation` is the
 *   `bytes` counted by `entryBytes`) and each entry's TTL, on the injected clock (`perf`; no time cache:
 *   `ttlResolution: 0`). No timers: an expired entry leaves when read or evicted.
 * - Its `dispose` hook, called for every entry that leaves (overwrite, delete, eviction, expiry), keeps
 *   the tag index (`Map<tag, Set<key>>`) holding live keys only.
 * - lru-cache counts an entry live while its age is at most its TTL; this store's contract is "gone at
 *   `expiresAt`" (age below the TTL). Each TTL starts half a millisecond early, which on a clock in
 *   whole milliseconds is exactly that.
 */
export class LruMemoryStore implements EntryStore {
  readonly name: string;
  readonly maxBytes: number;
  readonly #now: () => number;
  readonly #cache: LRUCache<string, MemoryEntry>;
  readonly #tags = new Map<string, Set<string>>();
  readonly #generations = new LocalGenerations();
  #closed = false;

  constructor(options: MemoryStoreOptions) {
    this.name = options.name ?? "memory";
    this.maxBytes = options.maxBytes;
    const now = options.now ?? Date.now;
    this.#now = now;
    this.#cache = new LRUCache<string, MemoryEntry>({
      // lru-cache needs a positive bound; a store whose bound is below one entry stores nothing (put).
      maxSize: Math.max(1, Math.floor(options.maxBytes)),
      sizeCalculation: (entry) => entry.bytes,
      perf: { now },
      ttlResolution: 0,
      dispose: (entry, key) => this.#untag(key, entry),
    });
  }

  get bytes(): number {
    return this.#cache.calculatedSize;
  }

  get entries(): number {
    return this.#cache.size;
  }

  get tagCount(): number {
    return this.#tags.size;
  }

  lookup(key: string): MemoryEntry | undefined {
    return this.#cache.get(key);
  }

  put(key: string, value: Buffer, options: SetOptions & { readonly storedAt?: number }): void {
    const bytes = entryBytes(key, value, options.tags);
    if (!(options.ttlMs > 0) || bytes > this.maxBytes) {
      this.#cache.delete(key);
      return;
    }
    const now = this.#now();
    const tags = [...new Set(options.tags)];
    const entry: MemoryEntry = {
      value: owned(value),
      tags,
      expiresAt: now + options.ttlMs,
      storedAt: options.storedAt ?? now,
      bytes,
    };
    // An overwrite disposes of the previous entry (and its tags) inside set: tag the new one after.
    this.#cache.set(key, entry, { ttl: options.ttlMs, start: now - 0.5 });
    for (const tag of tags) {
      let keys = this.#tags.get(tag);
      if (keys === undefined) {
        keys = new Set();
        this.#tags.set(tag, keys);
      }
      keys.add(key);
    }
  }

  remove(keys: readonly string[]): number {
    let removed = 0;
    for (const key of keys) {
      const live = this.#cache.has(key);
      if (this.#cache.delete(key) && live) removed++;
    }
    return removed;
  }

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
    return { l1: { bytes: this.#cache.calculatedSize, entries: this.#cache.size } };
  }

  clear(): void {
    this.#tags.clear();
    this.#cache.clear();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.clear();
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw storeClosed(this.name, operation);
  }

  #untag(key: string, entry: MemoryEntry): void {
    for (const tag of entry.tags) {
      const keys = this.#tags.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.#tags.delete(tag);
    }
  }
}
