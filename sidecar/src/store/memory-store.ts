import { storeClosed } from "./errors.js";
import { LocalGenerations } from "./local-generations.js";
import type { EntryStore, Fence, SetOptions, StoredEntry, StoreHealth, StoreStats } from "./types.js";

/**
 * The in-process store: an LRU bounded by bytes with an exact tag index.
 *
 * - LRU order is the insertion order of one `Map` (oldest first); a hit moves the key to the end, so
 *   get and set are O(1). Evicting is not: the oldest entry is found by iterating the Map from its
 *   first slot, stepping over the slots deleted since V8 last compacted the table, so an eviction costs
 *   more the more entries L1 holds (ADR 0033 measured it, against the same store on `lru-cache`).
 * - The byte bound counts what an entry retains: key + value + tag bookkeeping (each tag the entry
 *   carries is held in the entry and in the tag's key set) + a fixed per-entry overhead. It is an
 *   estimate of retained heap, not an exact measurement.
 * - Expiry is checked on read against the injected clock; expired entries also leave when the LRU
 *   evicts them.
 * - The tag index (`Map<tag, Set<key>>`) only ever holds live keys: removing an entry for any reason
 *   (overwrite, delete, eviction, expiry) removes it from its tags' sets and drops empty sets. An
 *   overwrite replaces the entry's tags.
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

/** Map entry, entry object and bookkeeping fields, per entry. */
export const ENTRY_OVERHEAD_BYTES = 96;
/** Per tag an entry carries: the reference in the entry plus the membership in the tag's set. */
export const TAG_MEMBERSHIP_OVERHEAD_BYTES = 48;

export function entryBytes(key: string, value: Buffer, tags: readonly string[]): number {
  const keyBytes = Buffer.byteLength(key);
  let tagBytes = 0;
  for (const tag of tags) tagBytes += Buffer.byteLength(tag) + keyBytes + TAG_MEMBERSHIP_OVERHEAD_BYTES;
  return ENTRY_OVERHEAD_BYTES + keyBytes + value.length + tagBytes;
}

/**
 * `value` itself when it owns its whole backing store, else an exact-size copy. A value decoded from a
 * Redis reply is a view into the parser's read buffer (often a shared pool many times its size): kept
 * as it is, each entry would pin memory its byte count never sees (the soak measured 1.6 resident bytes
 * per counted byte before this).
 */
export function owned(value: Buffer): Buffer {
  if (value.byteOffset === 0 && value.buffer.byteLength === value.length) return value;
  const copy = Buffer.allocUnsafeSlow(value.length);
  value.copy(copy);
  return copy;
}

export class MemoryStore implements EntryStore {
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
