import type { Logger } from "pino";
import { answeredByRedis, StoreError, type StoreErrorCode } from "./errors.js";
import {
  DEFAULT_HORIZON_SKEW_MS,
  DEFAULT_MAX_PENDING_INVALIDATIONS,
  type PendingBatch,
  PendingInvalidations,
} from "./pending-invalidations.js";
import { type ReconnectOptions, reconnectDelay } from "./reconnect.js";
import type {
  EntryStore,
  Fence,
  GetOptions,
  SetOptions,
  StoredEntry,
  StoreHealth,
  StoreStats,
} from "./types.js";
import { holdOnAtDeadline, type WriteHoldOptions, writeHoldDeadline } from "./write-hold.js";

/**
 * Makes invalidations of the shared tier (L2, Redis) stick through a Redis outage. An invalidation
 * that fails for a transient reason (timeout, unreachable, circuit open, bulk deadline) is queued
 * (bounded, de-duplicated; see pending-invalidations.ts) and retried with backoff until Redis
 * accepts it; the caller's delete resolves (0 removed) because, until then, every L2 read of an
 * entry carrying a pending tag or key is answered as a miss. So a pod never reloads what it
 * invalidated, even when Redis comes back with the old entry. Per pod: other pods learn of the
 * invalidation when the queue drains (their L1 copies still expire after maxEntryAge).
 *
 * If the queue overflows, L2 reads are skipped entirely until it drains, and entries written before
 * the dropped invalidation stay misses for good (they are refetched and overwritten).
 *
 * Before queueing, a failed invalidation is retried for up to `settleWithinMs` (a Redis that was only
 * slow for a moment takes it then): other pods learn of an invalidation only once Redis has it, so a
 * write's response waits that long for it to be applied (ADR 0018) before giving up to the queue.
 *
 * With `hold` (replicas keep L1 copies under a lease, ADR 0018 "A partition from Redis"), a queued
 * invalidation is then held further, until every replica that cannot hear Redis has stopped serving
 * L1 (write-hold.ts), or until it is applied, whichever comes first — and past that deadline, for one
 * more hold at most, while this pod hears Redis again (replicas that hear it serve L1 again).
 */
export interface InvalidationGuardOptions {
  /** Most tags + keys kept pending (default 10,000). */
  readonly maxPending?: number;
  /** Retry backoff (default 100 ms doubling to 5 s, with jitter). */
  readonly retry?: ReconnectOptions;
  /** Tags + keys per retry call (default 100). */
  readonly retryBatch?: number;
  /** How long a failing invalidation is retried before it is queued (default 0: queued at once). */
  readonly settleWithinMs?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Called when the queue changes: the pending gauge, and how many were dropped now. */
  readonly onChange?: (state: PendingState) => void;
  /** Holds a queued invalidation until replicas' L1 leases ran out (absent: no hold). */
  readonly hold?: WriteHold;
}

export interface WriteHold {
  readonly options: WriteHoldOptions;
  /** The monotonic clock the lease is measured on. */
  readonly clock: () => number;
  /** Since when this pod's invalidation channel has been down (undefined: up). */
  readonly channelDownSince: () => number | undefined;
  /** Whether this pod hears Redis now (its channel up and its lease valid). */
  readonly hearsRedis?: () => boolean;
  /** Lets the next operation through an open circuit (this pod hears Redis: it answers again). */
  readonly probe?: () => void;
  /** How often a held write re-checks whether this pod hears Redis again (default 100 ms). */
  readonly recheckMs?: number;
  /** A queued invalidation held the caller this long (ms). */
  readonly onHeld?: (ms: number) => void;
}

export interface PendingState {
  readonly store: string;
  readonly pending: number;
  readonly bypassingReads: boolean;
  readonly dropped: number;
}

export const DEFAULT_INVALIDATION_RETRY: ReconnectOptions = { baseMs: 100, maxMs: 5_000 };

/**
 * Failures after which retrying makes sense: Redis slow, gone, skipped by the breaker, a bulk deadline,
 * or a cluster slot that moved (a failover).
 */
const TRANSIENT: ReadonlySet<StoreErrorCode> = new Set([
  "APICACHE_ERR_STORE_TIMEOUT",
  "APICACHE_ERR_STORE_UNAVAILABLE",
  "APICACHE_ERR_STORE_CIRCUIT_OPEN",
  "APICACHE_ERR_STORE_BULK_TIMEOUT",
  "APICACHE_ERR_STORE_SLOT_MOVED",
]);

function isTransient(error: unknown): boolean {
  return error instanceof StoreError && TRANSIENT.has(error.code);
}

export class InvalidationGuardStore implements EntryStore {
  readonly name: string;
  readonly #inner: EntryStore;
  readonly #pending: PendingInvalidations;
  readonly #retry: ReconnectOptions;
  readonly #retryBatch: number;
  readonly #settleWithinMs: number;
  readonly #logger: Logger | undefined;
  readonly #onChange: ((state: PendingState) => void) | undefined;
  readonly #hold: WriteHold | undefined;
  /** Held invalidations, woken when the queue drains some of it. */
  readonly #held = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #flushing = false;
  #closed = false;
  /** When `heardAgain` last probed and retried (hold clock). */
  #heardAgainAt = Number.NEGATIVE_INFINITY;
  /** When a write held past its deadline last probed and retried (hold clock). */
  #heldRetryAt = Number.NEGATIVE_INFINITY;
  /** Whether a write was answered unapplied while this pod heard Redis, since the queue last drained. */
  #warnedHeard = false;

  constructor(inner: EntryStore, options: InvalidationGuardOptions = {}) {
    this.name = inner.name;
    this.#inner = inner;
    this.#pending = new PendingInvalidations({
      maxItems: options.maxPending ?? DEFAULT_MAX_PENDING_INVALIDATIONS,
      now: options.now ?? Date.now,
      skewMs: DEFAULT_HORIZON_SKEW_MS,
    });
    this.#retry = options.retry ?? DEFAULT_INVALIDATION_RETRY;
    this.#retryBatch = Math.max(1, options.retryBatch ?? 100);
    this.#settleWithinMs = Math.max(0, options.settleWithinMs ?? 0);
    this.#logger = options.logger;
    this.#onChange = options.onChange;
    this.#hold = options.hold;
  }

  /** Tags + keys not yet applied to the shared tier. */
  get pending(): number {
    return this.#pending.size;
  }

  async get(key: string, options?: GetOptions): Promise<Buffer | undefined> {
    return (await this.getEntry(key, options))?.value;
  }

  async getEntry(key: string, options?: GetOptions): Promise<StoredEntry | undefined> {
    if (this.#pending.bypassingReads) return undefined;
    const mark = this.#pending.mark();
    const entry = await this.#inner.getEntry(key, options);
    if (entry === undefined || !this.#pending.masks(key, entry, mark)) return entry;
    return undefined;
  }

  set(key: string, value: Buffer, options: SetOptions): Promise<boolean> {
    return this.#inner.set(key, value, options);
  }

  fence(tags: readonly string[]): Promise<Fence> {
    return this.#inner.fence(tags);
  }

  delete(keys: readonly string[]): Promise<number> {
    return this.#invalidate([], keys, () => this.#inner.delete(keys));
  }

  deleteTags(tags: readonly string[]): Promise<number> {
    return this.#invalidate(tags, [], () => this.#inner.deleteTags(tags));
  }

  async #invalidate(
    tags: readonly string[],
    keys: readonly string[],
    apply: () => Promise<number>,
  ): Promise<number> {
    // When the last attempt that reached the connection was sent: a cut may fall while it is in
    // flight, so the hold counts from it (write-hold.ts), not from the first attempt.
    const sent = { at: this.#hold?.clock() ?? 0 };
    try {
      return await this.#settle(apply, sent);
    } catch (error) {
      if (!isTransient(error) || this.#closed) throw error;
      this.#enqueue(tags, keys, error);
      // Held only when Redis may be out of reach (a timeout, a lost connection, an open circuit): an
      // error reply (OOM, LOADING, MOVED...) proves the connection worked when it was answered.
      if (this.#hold !== undefined && !answeredByRedis(error)) await this.#holdUntilSafe(sent.at, tags, keys);
      return 0;
    }
  }

  /**
   * Waits until replicas' L1 leases ran out (write-hold.ts), or the invalidation is applied. A deadline
   * that finds this pod hearing Redis holds on (holdOnAtDeadline), retrying at once and on every
   * re-check: replicas that hear Redis too serve L1 until the invalidation is applied. Also when the
   * pod "heard Redis throughout": hearing is the lease (a PING answered within leaseMs), true for up to
   * leaseMs after a cut, so a partition that healed within it looks the same as a brownout.
   */
  async #holdUntilSafe(sentAt: number, tags: readonly string[], keys: readonly string[]): Promise<void> {
    const hold = this.#hold as WriteHold;
    const start = hold.clock();
    const deadline = writeHoldDeadline(hold.options, sentAt, hold.channelDownSince());
    if (deadline <= start) return;
    // Applied, it is released at once: if this pod hears Redis, probe and retry now (as after an
    // outage, when replicas that hear Redis serve L1 the hold does not protect).
    const hears = () => hold.hearsRedis?.() ?? false;
    if (hears()) this.heardAgain();
    const recheckMs = Math.max(1, hold.recheckMs ?? 100);
    let past = false; // past the deadline, holding on
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.#closed || !this.#pending.holds(tags, keys)) finish();
      };
      const finish = () => {
        clearTimeout(timer);
        clearTimeout(recheck);
        this.#held.delete(check);
        resolve();
      };
      const atDeadline = () => {
        const now = hold.clock(); // a re-check due at the same moment runs after this
        // Hearing Redis at the deadline is enough: `hears` is the lease, which outlives a cut by up to
        // leaseMs, so "heard throughout" cannot tell a brownout from a partition healed within it.
        const until = holdOnAtDeadline(hold.options, { start, now, hearsRedis: hears() });
        if (until === undefined || this.#closed) {
          if (past) this.#answeredUnapplied();
          finish();
          return;
        }
        past = true;
        this.#heardWhileHeld(past, recheckMs);
        timer = setTimeout(atDeadline, until - now);
      };
      // While held, a partition may heal without this pod's channel going down (shorter than its
      // silence): once this pod hears Redis again, so do replicas — probe and retry then, not later.
      const again = () => {
        if (hears()) this.#heardWhileHeld(past, recheckMs);
        recheck = setTimeout(again, recheckMs);
      };
      let timer = setTimeout(atDeadline, deadline - start);
      let recheck = setTimeout(again, recheckMs);
      this.#held.add(check);
      check(); // applied already (a retry that was under way)
    });
    hold.onHeld?.(hold.clock() - start);
  }

  /**
   * A held write finds this pod hearing Redis: probe and retry, at most once per lease (heardAgain) —
   * or, `past` its deadline, at once, at most once per re-check period for all held writes: the
   * write waits for nothing else then.
   */
  #heardWhileHeld(past: boolean, recheckMs: number): void {
    if (!past) {
      this.heardAgain();
      return;
    }
    const now = (this.#hold as WriteHold).clock();
    if (now - this.#heldRetryAt < recheckMs) return;
    this.#heldRetryAt = now;
    this.#hold?.probe?.();
    this.retryNow();
  }

  /** Said once until the queue drains: answering now may let replicas serve what the write changed. */
  #answeredUnapplied(): void {
    if (this.#warnedHeard || this.#pending.size === 0) return;
    this.#warnedHeard = true;
    this.#logger?.warn(
      { store: this.name, pending: this.#pending.size },
      "answered a held write whose invalidation Redis has not taken although this pod hears Redis (a brownout?); replicas that hear Redis may serve the old entry from L1 until it is applied",
    );
  }

  /**
   * This pod hears Redis again (its lease renewed, a held write saw it): let an open circuit probe and
   * retry the queue now — at most once per lease (with a hold), so that a brownout (data commands
   * timing out, PINGs answered) does not defeat the breaker and the backoff on every write.
   */
  heardAgain(): void {
    if (this.#closed || this.#pending.size === 0) return;
    const hold = this.#hold;
    if (hold !== undefined) {
      const now = hold.clock();
      if (now - this.#heardAgainAt < hold.options.leaseMs) return;
      this.#heardAgainAt = now;
      hold.probe?.();
    }
    this.retryNow();
  }

  /** Retries the pending invalidations now, the backoff started over (a held write, Redis heard again). */
  retryNow(): void {
    if (this.#closed || this.#pending.size === 0) return;
    this.#attempt = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#flush();
  }

  #wakeHeld(): void {
    for (const check of [...this.#held]) check();
  }

  /**
   * Runs an invalidation, retrying transient failures (10 ms doubling) for up to settleWithinMs.
   * `sent.at` becomes the send time (hold clock) of each attempt the circuit let through; one it
   * skipped counts as sent a command timeout before it was skipped.
   */
  async #settle(apply: () => Promise<number>, sent: { at: number }): Promise<number> {
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      const at = this.#hold?.clock();
      try {
        return await apply();
      } catch (error) {
        if (at !== undefined) {
          // Skipped by an open circuit: nothing left, and a cut may fall at any moment meanwhile —
          // counted as if sent a command timeout before now (the hold then ends a lease after now).
          const skipped = error instanceof StoreError && error.code === "APICACHE_ERR_STORE_CIRCUIT_OPEN";
          const commandTimeoutMs = this.#hold?.options.commandTimeoutMs ?? 0;
          sent.at = skipped ? Math.max(sent.at, (this.#hold?.clock() ?? at) - commandTimeoutMs) : at;
        }
        const delay = 10 * 2 ** Math.min(attempt, 4);
        const late = performance.now() - started + delay > this.#settleWithinMs;
        if (!isTransient(error) || this.#closed || late) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  health(): StoreHealth {
    return this.#inner.health();
  }

  stats(): StoreStats {
    return { ...this.#inner.stats(), pendingInvalidations: this.#state() };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeHeld();
    if (this.#pending.size > 0) {
      this.#logger?.warn(
        { store: this.name, pending: this.#pending.size },
        "closing with invalidations Redis has not accepted; affected entries stay until they expire",
      );
    }
    await this.#inner.close();
  }

  #state(dropped = 0): PendingState {
    const { size, bypassingReads } = this.#pending;
    return { store: this.name, pending: size, bypassingReads, dropped };
  }

  #notify(dropped = 0): void {
    try {
      this.#onChange?.(this.#state(dropped));
    } catch {
      // A broken observer must never break invalidation.
    }
  }

  #enqueue(tags: readonly string[], keys: readonly string[], error: unknown): void {
    const wasEmpty = this.#pending.size === 0;
    const wasBypassing = this.#pending.bypassingReads;
    const dropped = this.#pending.add(tags, keys);
    const code = (error as StoreError).code;
    if (wasEmpty) {
      this.#logger?.warn(
        { store: this.name, code, tags: tags.length, keys: keys.length },
        "Redis did not accept an invalidation; it is retried until applied, and reads of the entries it concerns skip Redis meanwhile",
      );
    }
    if (dropped > 0 && !wasBypassing) {
      this.#logger?.error(
        { store: this.name, code, dropped, pending: this.#pending.size },
        "pending invalidation queue is full; reads skip Redis until it drains, and entries written before now are refetched",
      );
    }
    this.#notify(dropped);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed || this.#pending.size === 0) return;
    const delay = reconnectDelay(this.#attempt + 1, this.#retry);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, delay);
    this.#timer.unref();
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#closed) return;
    this.#flushing = true;
    try {
      while (this.#pending.size > 0 && !this.#closed) {
        const batch = this.#pending.batch(this.#retryBatch);
        if (!(await this.#apply(batch))) break;
      }
    } finally {
      this.#flushing = false;
    }
    this.#notify();
    if (this.#pending.size === 0) {
      this.#warnedHeard = false;
      this.#logger?.info({ store: this.name }, "pending invalidations applied; Redis reads are used again");
    } else this.#schedule();
  }

  /** Applies one batch; false when Redis is still failing (retry later). */
  async #apply(batch: PendingBatch): Promise<boolean> {
    try {
      if (batch.tags.length > 0) await this.#inner.deleteTags(batch.tags);
      if (batch.keys.length > 0) await this.#inner.delete(batch.keys);
    } catch (error) {
      if (isTransient(error)) {
        this.#attempt++;
        return false;
      }
      // Redis refuses it for good (e.g. WRONGTYPE): give up on these, and distrust older entries.
      this.#logger?.error(
        { store: this.name, err: error, tags: batch.tags, keys: batch.keys },
        "Redis refused a pending invalidation; entries written before now are refetched instead",
      );
      this.#pending.drop(batch.tags.length + batch.keys.length);
      this.#notify(batch.tags.length + batch.keys.length);
    }
    this.#attempt = 0;
    this.#pending.settle(batch);
    this.#wakeHeld();
    return true;
  }
}
