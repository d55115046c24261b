import { nextIoTurn } from "./io-turn.js";
import type { L1Coherence } from "./l1-coherence.js";
import { type MemoryEntry, type MemoryStore, owned } from "./memory-store.js";
import type {
  EntryStore,
  Fence,
  GetOptions,
  SetOptions,
  StoredEntry,
  StoreHealth,
  StoreStats,
} from "./types.js";

/**
 * L1 (in-process memory) in front of L2 (Redis, usually behind a circuit breaker).
 *
 * - Reads: an L1 copy younger than `maxEntryAgeMs` (counted from when it was stored or last
 *   confirmed against L2) is served without consulting L2; otherwise L2 is read and the answer
 *   refreshes L1 (with L2's remaining TTL and tags) or drops the L1 copy. So a pod serves an entry
 *   another pod invalidated for at most `maxEntryAgeMs`. `0` never serves L1 without asking L2.
 * - Fail open: when L2 fails, an unexpired L1 copy of any age is still served; without one the L2
 *   error propagates (the caller treats it as a miss).
 * - Writes go to both tiers; local invalidations (delete, deleteTags) drop L1 and L2 and count what
 *   L2 removed (the shared truth: summing pods' L1 copies would over-count). An L2 read
 *   that races a local invalidation does not re-populate L1 with what was just invalidated.
 * - With `coherence` (ADR 0018), Redis pushes every change of a tag generation (and key mark), which
 *   drops the L1 copies concerned at once; `maxEntryAgeMs` is then only a safety net. L1 serves and
 *   stores only while that channel is up: while it is down L1 is empty and every read goes to L2 (no
 *   fail open to L1 then: the pod cannot tell a Redis down for everyone from one out of its own reach).
 *   Nor while the channel's lease lapsed (no heartbeat answered lately: maybe a silent partition, its
 *   pushes lost; see l1-coherence.ts): L1 is kept, not served, until a late answer renews the lease.
 *   An L2 answer is not kept when a push for its key or one of its tags arrived since it was asked for
 *   (it may have left Redis before the change). And an L1 copy is served only after the pushes already
 *   received have been handled (`settle`): a push that reached the socket before the request may
 *   otherwise be handled after it, and the request served what that push drops.
 */
export interface TieredStoreOptions {
  readonly l1: MemoryStore;
  readonly l2: EntryStore;
  readonly maxEntryAgeMs: number;
  readonly now?: () => number;
  readonly name?: string;
  /** Pushed invalidations (absent: L1 is coherent only through maxEntryAgeMs). */
  readonly coherence?: L1Coherence;
  /** Released with the store (the invalidation channel). */
  readonly onClose?: () => Promise<void>;
  /**
   * With `coherence`: resolves once the I/O received so far has been handled (pushes included);
   * awaited before an L1 copy is served. Default: the next event-loop poll (io-turn.ts).
   */
  readonly settle?: () => Promise<void>;
}

const UNREACHABLE: ReadonlySet<string> = new Set([
  "APICACHE_ERR_STORE_TIMEOUT",
  "APICACHE_ERR_STORE_UNAVAILABLE",
  "APICACHE_ERR_STORE_CIRCUIT_OPEN",
]);

function unreachable(error: unknown): boolean {
  return UNREACHABLE.has((error as { code?: string } | undefined)?.code ?? "");
}

function fromMemory(entry: MemoryEntry, now: number): StoredEntry {
  return { value: entry.value, ttlMs: entry.expiresAt - now, tags: entry.tags };
}

export class TieredStore implements EntryStore {
  readonly name: string;
  readonly #l1: MemoryStore;
  readonly #l2: EntryStore;
  readonly #maxEntryAgeMs: number;
  readonly #now: () => number;
  readonly #coherence: L1Coherence | undefined;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #settle: () => Promise<void>;
  /** Bumped by every local invalidation; an L2 read that straddles one does not fill L1. */
  #epoch = 0;

  constructor(options: TieredStoreOptions) {
    this.name = options.name ?? "tiered";
    this.#l1 = options.l1;
    this.#l2 = options.l2;
    this.#maxEntryAgeMs = Math.max(0, options.maxEntryAgeMs);
    this.#now = options.now ?? Date.now;
    this.#coherence = options.coherence;
    this.#onClose = options.onClose;
    this.#settle = options.settle ?? nextIoTurn;
  }

  /**
   * Whether L1 may serve and store now (always, without coherence; with it, while its channel is up and
   * its lease holds: a channel that has not heard Redis lately may be cut from it, pushes lost).
   */
  get #l1Usable(): boolean {
    return this.#coherence?.serving ?? true;
  }

  /** A mark of both invalidation sources: this pod's own (epoch) and pushed ones (coherence). */
  #mark(): { epoch: number; pushed: number } {
    return { epoch: this.#epoch, pushed: this.#coherence?.mark() ?? 0 };
  }

  /** Whether an L2 answer obtained since `mark` may still go to L1. */
  #keepable(mark: { epoch: number; pushed: number }, key: string, tags: readonly string[]): boolean {
    if (mark.epoch !== this.#epoch) return false;
    return this.#coherence === undefined || !this.#coherence.changedSince(mark.pushed, key, tags);
  }

  get l1(): MemoryStore {
    return this.#l1;
  }

  async get(key: string, options?: GetOptions): Promise<Buffer | undefined> {
    return (await this.getEntry(key, options))?.value;
  }

  async getEntry(key: string, options?: GetOptions): Promise<StoredEntry | undefined> {
    // `shared`: the caller wants what every pod sees (a woken cross-pod waiter), never this pod's copy.
    let young = options?.shared ? undefined : this.#young(key, true);
    if (young !== undefined && this.#coherence !== undefined) {
      // A push dropping this copy may be in a socket already, unhandled: handle it first.
      await this.#settle();
      young = this.#young(key);
    }
    if (young !== undefined) return fromMemory(young, this.#now());
    const local = this.#l1Usable ? this.#l1.lookup(key) : undefined;
    const mark = this.#mark();
    let remote: StoredEntry | undefined;
    try {
      remote = await this.#l2.getEntry(key, options);
    } catch (error) {
      if (local !== undefined && this.#l1Usable && this.#l1.lookup(key) === local) {
        return fromMemory(local, this.#now());
      }
      throw error;
    }
    if (remote === undefined) {
      if (mark.epoch === this.#epoch) this.#l1.remove([key]);
    } else if (this.#keepable(mark, key, remote.tags)) {
      // L2's value is a view into a reply buffer, which L1 would copy: the caller gets the copy L1 keeps,
      // so what it decodes is remembered for L1's later hits (proxy/entry-reader.ts), not decoded again.
      const value = owned(remote.value);
      this.#l1.put(key, value, { ttlMs: remote.ttlMs, tags: remote.tags });
      return value === remote.value ? remote : { ...remote, value };
    }
    return remote;
  }

  /**
   * The L1 copy, if L1 is usable and the copy younger than maxEntryAgeMs. `report`: a copy refused
   * only because the channel's lease lapsed is reported to coherence (a metric).
   */
  #young(key: string, report = false): MemoryEntry | undefined {
    const usable = this.#l1Usable;
    const local = usable || report ? this.#l1.lookup(key) : undefined;
    if (local === undefined || this.#now() - local.storedAt >= this.#maxEntryAgeMs) return undefined;
    if (usable) return local;
    if (this.#coherence?.lapsed) this.#coherence.refused();
    return undefined;
  }

  /**
   * Unfenced: L1, then L2. Fenced (a fill): L2 first, and L1 only once L2 has taken it, so this pod
   * never serves, even for one round trip, what the fence may still refuse (a tag invalidated by some
   * pod since). A fence taken while L2 was unreachable: L1 only (fail open).
   */
  async set(key: string, value: Buffer, options: SetOptions): Promise<boolean> {
    const fence = options.fence;
    // A fill's answer may predate any push since its fence was taken (before it asked the upstream).
    const mark = { ...this.#mark(), ...(fence === undefined ? {} : { pushed: fence.takenAt }) };
    if (fence === undefined || fence.unavailable) {
      if (fence === undefined ? this.#l1Usable : this.#keepable(mark, key, options.tags)) {
        this.#l1.put(key, value, options);
      }
      if (fence === undefined) await this.#l2.set(key, value, options);
      return true;
    }
    let stored: boolean;
    try {
      stored = await this.#l2.set(key, value, options);
    } catch (error) {
      // L2 became unreachable (or too slow, or its circuit opened) after the fence was taken: as
      // with a fence taken while it was unreachable, L1 keeps the entry (fail open), or this pod
      // would refetch it on every request until L2 is back. The error still reaches the caller.
      if (unreachable(error) && this.#keepable(mark, key, options.tags)) this.#l1.put(key, value, options);
      throw error;
    }
    if (stored && this.#keepable(mark, key, options.tags)) this.#l1.put(key, value, options);
    return stored;
  }

  /** L2's fence: the shared tier is where other pods' invalidations show. */
  fence(tags: readonly string[]): Promise<Fence> {
    return this.#l2.fence(tags);
  }

  async delete(keys: readonly string[]): Promise<number> {
    this.#epoch++;
    this.#l1.remove(keys);
    return this.#l2.delete(keys);
  }

  async deleteTags(tags: readonly string[]): Promise<number> {
    this.#epoch++;
    this.#l1.removeTags(tags);
    return this.#l2.deleteTags(tags);
  }

  /** L2's health: L1 is always usable, so this says whether the shared tier is. */
  health(): StoreHealth {
    const l2 = this.#l2.health();
    return l2.ok ? l2 : { ok: false, detail: `${this.#l2.name}: ${l2.detail ?? "unavailable"}` };
  }

  stats(): StoreStats {
    return { ...this.#l2.stats(), ...this.#l1.stats() };
  }

  async close(): Promise<void> {
    await Promise.all([this.#l1.close(), this.#l2.close(), this.#onClose?.()]);
  }
}
