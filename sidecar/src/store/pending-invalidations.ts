/**
 * The invalidations the shared tier (Redis) has not accepted yet, and which reads they make unsafe.
 * Pure bookkeeping (no timers, no I/O): `InvalidationGuardStore` drives it.
 *
 * - `add` records tags and keys whose delete failed (de-duplicated). It holds at most `maxItems`
 *   tags + keys; what does not fit is dropped and counted. A dropped invalidation can never be
 *   applied, so from then on every entry written before it (plus `skewMs` for clocks of other pods)
 *   is suspect: the `horizon` moves to that time and stays. Until the queue drains after an overflow,
 *   reads skip L2 entirely (`bypassingReads`).
 * - `masks` says whether an entry read from L2 must be treated as a miss: it carries a pending key or
 *   tag, it was written before the horizon, or the queue changed while the read was in flight (an
 *   invalidation that was applied or queued meanwhile may concern it: a miss is the safe answer).
 */
export interface PendingInvalidationsOptions {
  readonly maxItems: number;
  readonly now: () => number;
  /** Allowance for other pods' clocks when comparing write times to the horizon. */
  readonly skewMs: number;
}

/** What `mark()` remembers when a read starts. */
export interface ReadMark {
  readonly changes: number;
}

export interface PendingBatch {
  readonly tags: readonly string[];
  readonly keys: readonly string[];
}

export const DEFAULT_MAX_PENDING_INVALIDATIONS = 10_000;
export const DEFAULT_HORIZON_SKEW_MS = 1_000;

export class PendingInvalidations {
  readonly #tags = new Set<string>();
  readonly #keys = new Set<string>();
  readonly #maxItems: number;
  readonly #now: () => number;
  readonly #skewMs: number;
  #changes = 0;
  #overflowing = false;
  #horizon = 0;
  #dropped = 0;

  constructor(options: PendingInvalidationsOptions) {
    this.#maxItems = Math.max(1, Math.floor(options.maxItems));
    this.#now = options.now;
    this.#skewMs = Math.max(0, options.skewMs);
  }

  /** Tags + keys waiting. */
  get size(): number {
    return this.#tags.size + this.#keys.size;
  }

  /** Whether L2 reads are skipped: an overflow dropped invalidations and the queue has not drained. */
  get bypassingReads(): boolean {
    return this.#overflowing;
  }

  /** Entries written before this time (ms) are treated as misses for good; 0 until an overflow. */
  get horizon(): number {
    return this.#horizon;
  }

  /** Invalidations dropped (queue full, or refused for good) since the start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Records failed invalidations; resolves to how many did not fit and were dropped. */
  add(tags: readonly string[], keys: readonly string[]): number {
    let dropped = 0;
    const put = (set: Set<string>, item: string) => {
      if (set.has(item)) return;
      if (this.size >= this.#maxItems) dropped++;
      else set.add(item);
    };
    for (const tag of tags) put(this.#tags, tag);
    for (const key of keys) put(this.#keys, key);
    this.#changes++;
    if (dropped > 0) this.drop(dropped);
    return dropped;
  }

  /** Gives up on invalidations (queue full, or Redis refuses them): moves the horizon to now. */
  drop(count: number): void {
    this.#dropped += count;
    this.#overflowing = true;
    this.#horizon = Math.max(this.#horizon, this.#now() + this.#skewMs);
    this.#changes++;
  }

  /** Up to `max` items to retry, tags first. */
  batch(max: number): PendingBatch {
    const tags = [...take(this.#tags, max)];
    const keys = [...take(this.#keys, max - tags.length)];
    return { tags, keys };
  }

  /** Removes what was applied (or given up on); resolves to whether the queue is now empty. */
  settle(batch: PendingBatch): boolean {
    for (const tag of batch.tags) this.#tags.delete(tag);
    for (const key of batch.keys) this.#keys.delete(key);
    this.#changes++;
    if (this.size === 0) this.#overflowing = false;
    return this.size === 0;
  }

  /** Whether any of these tags or keys is still waiting. */
  holds(tags: readonly string[], keys: readonly string[]): boolean {
    return tags.some((tag) => this.#tags.has(tag)) || keys.some((key) => this.#keys.has(key));
  }

  mark(): ReadMark {
    return { changes: this.#changes };
  }

  /** Whether an entry read from L2 (read started at `mark`) must be treated as a miss. */
  masks(
    key: string,
    entry: { readonly tags: readonly string[]; readonly writtenAt?: number },
    mark: ReadMark,
  ) {
    if (this.#overflowing || mark.changes !== this.#changes) return true;
    if (this.#horizon > 0 && (entry.writtenAt ?? 0) < this.#horizon) return true;
    if (this.size === 0) return false;
    return this.#keys.has(key) || entry.tags.some((tag) => this.#tags.has(tag));
  }
}

function* take(set: ReadonlySet<string>, max: number): Generator<string> {
  if (max <= 0) return;
  let taken = 0;
  for (const item of set) {
    yield item;
    if (++taken >= max) return;
  }
}
