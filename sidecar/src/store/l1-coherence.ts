import { generationKey, keyInvalidationKey } from "./redis-layout.js";

/**
 * Keeps a pod's L1 (in-process tier) coherent with Redis from the invalidations Redis pushes
 * (client-side caching in broadcast mode, see invalidation-channel.ts and ADR 0018). Pure: the channel
 * feeds it messages and up/down transitions; the tiered store asks it whether L1 may serve and store.
 *
 * What a push names, and what it drops from L1:
 * - `<prefix>:g|<tag>`: a tag's generation was dropped, created, extended, expired or evicted (a tag
 *   or path invalidation, ADR 0008) — every L1 copy carrying that tag;
 * - `<prefix>:d|<key>`: the entry was invalidated by key (redis-layout.ts, keyInvalidationKey) — the L1
 *   copy of that key;
 * - nothing (a null payload): FLUSHALL/FLUSHDB — all of L1.
 * Entries (`k|`) and tag sets (`t|`) are not tracked: every change that makes an entry invalid moves a
 * generation or sets a mark, and entries change on every fill of every pod (tracking them sent every
 * pod megabytes when a tag with many entries was drained, ahead of the next write's push). An entry
 * overwritten by another pod's fill, expired or evicted in Redis leaves a copy that is still valid.
 *
 * Races: pushes, flushes and channel transitions are timed (a monotonic clock). A read records the
 * time before it asks Redis (`mark`), a fill the time its fence was taken (before it asked the
 * upstream), and either stores its answer in L1 only if nothing it depends on (its key, its tags) was
 * pushed since (`changedSince`): an answer that left Redis (or the upstream) before an invalidation
 * may arrive after its push. The most recent `limit` names are remembered; a mark older than a
 * forgotten one is treated as changed, and so is a mark no later than a push (ties are changes).
 *
 * While the channel is down (a connection lost, tracking not re-armed) pushes may be lost: L1 is
 * flushed, and serves and stores nothing (every read goes to Redis) until the channel is up again, when
 * it is flushed once more (what changed meanwhile was never pushed). Not even to fail open: a pod
 * whose channel is down cannot tell "Redis is down for everyone" from "Redis is out of this pod's
 * reach while other pods write to it".
 *
 * The lease (ADR 0018, "A partition from Redis"): L1 serves a copy only while the channel has recently
 * proved it hears Redis — `heard(at)`: every node connection answered a heartbeat PING sent at `at` or
 * later (Redis answers in order: every push it queued before that PING has been received). Once that
 * proof is older than `leaseMs` an L1 copy is not served (the read asks Redis, as on a miss) — without
 * a flush: a PONG that comes late renews the lease and L1 serves again (`onLeaseRenewed`). A write whose invalidation
 * Redis did not take is held until every replica that cannot hear Redis either has let its lease lapse
 * (write-hold.ts).
 */
export interface L1Target {
  readonly entries: number;
  remove(keys: readonly string[]): number;
  removeTags(tags: readonly string[]): number;
  clear(): void;
}

/** What one `__redis__:invalidate` message asks of L1. */
export type PushedInvalidation =
  | { readonly kind: "flush" }
  | { readonly kind: "names"; readonly keys: readonly string[]; readonly tags: readonly string[] };

export type FlushReason = "channel_down" | "channel_up" | "flush_message";

export interface CoherenceEvents {
  /** A push arrived: the keys and tags it named, and how many L1 entries it dropped. */
  onInvalidation?(invalidation: PushedInvalidation, dropped: number): void;
  onFlush?(reason: FlushReason, dropped: number): void;
  onChannel?(up: boolean): void;
  /** An L1 copy was not served: the channel is up but its lease lapsed (no PONG recent enough). */
  onLeaseRefusal?(): void;
  /**
   * A lapsed lease is valid again: Redis is heard after a partition too short to take the channel
   * down. Replicas serve L1 again from now on, so what Redis missed meanwhile must reach it now.
   */
  onLeaseRenewed?(): void;
}

/**
 * Reads an invalidation message's payload (RESP2: the pub/sub message of `__redis__:invalidate`, an
 * array of key names, or null for a flush). Keys outside this prefix's key marks and generations are
 * ignored; undefined when nothing is left (or the payload is not a message of this kind).
 */
export function parseInvalidation(prefix: string, payload: unknown): PushedInvalidation | undefined {
  if (payload === null || payload === undefined) return { kind: "flush" };
  if (!Array.isArray(payload)) return undefined;
  if (payload.length === 0) return { kind: "flush" };
  const marks = keyInvalidationKey(prefix, "");
  const generations = generationKey(prefix, "");
  const keys: string[] = [];
  const tags: string[] = [];
  for (const item of payload) {
    const name = Buffer.isBuffer(item) ? item.toString("utf8") : typeof item === "string" ? item : undefined;
    if (name === undefined) continue;
    if (name.startsWith(marks)) keys.push(name.slice(marks.length));
    else if (name.startsWith(generations)) tags.push(name.slice(generations.length));
  }
  return keys.length + tags.length === 0 ? undefined : { kind: "names", keys, tags };
}

/** Remembered names of recent pushes (entries as `k|key`, tags as `g|tag`). */
const DEFAULT_LIMIT = 16_384;

export class L1Coherence {
  readonly #target: L1Target;
  readonly #events: CoherenceEvents;
  readonly #limit: number;
  readonly #now: () => number;
  /** name → time of its last push, oldest first. */
  readonly #recent = new Map<string, number>();
  #lastPush = Number.NEGATIVE_INFINITY;
  /** Marks at or before this cannot be checked (a flush, a transition, or forgotten names). */
  #horizon = Number.NEGATIVE_INFINITY;
  #up = false;
  readonly #leaseMs: number;
  /** Every node's connection has received every push Redis queued before this time (a PING's send time). */
  #heardAt = Number.NEGATIVE_INFINITY;
  /** Whether `heard` was called since the channel last came up. */
  #heardSinceUp = false;
  /** When the channel last went down (undefined while up). */
  #downSince: number | undefined;

  constructor(options: {
    target: L1Target;
    events?: CoherenceEvents;
    limit?: number;
    now?: () => number;
    /** How long a proof of hearing Redis lets L1 serve (default: forever, no lease). */
    leaseMs?: number;
  }) {
    this.#target = options.target;
    this.#events = options.events ?? {};
    this.#limit = Math.max(1, options.limit ?? DEFAULT_LIMIT);
    this.#now = options.now ?? (() => performance.now());
    this.#leaseMs = options.leaseMs ?? Number.POSITIVE_INFINITY;
    this.#events.onChannel?.(false); // down until the channel is armed (no downSince: see down)
  }

  /** Whether L1 may serve and store: the channel is up, so every change reaches it, and its lease holds. */
  get serving(): boolean {
    return this.#up && this.#now() - this.#heardAt <= this.#leaseMs;
  }

  /** The channel is up but has not proved it hears Redis for longer than the lease. */
  get lapsed(): boolean {
    return this.#up && this.#now() - this.#heardAt > this.#leaseMs;
  }

  get leaseMs(): number {
    return this.#leaseMs;
  }

  /**
   * Since when the channel has been down (this clock) because an armed connection was lost (closed or
   * silent): Redis has been out of this pod's reach since then at the latest. Undefined while up,
   * before the first arming, after a down that lost no armed connection, and once Redis answered
   * again (`answered`): then nothing dates the outage (write-hold.ts holds in full).
   */
  get downSince(): number | undefined {
    return this.#downSince;
  }

  /**
   * The channel proved it heard Redis up to `at` (this clock): every node's connection answered a PING
   * sent at `at` or later. Never moves back.
   */
  heard(at: number): void {
    if (at <= this.#heardAt) return;
    const wasLapsed = this.lapsed && this.#heardSinceUp; // the first proof after up is not a renewal
    this.#heardAt = at;
    this.#heardSinceUp = this.#up;
    if (wasLapsed && !this.lapsed) this.#events.onLeaseRenewed?.();
  }

  /** Reports an L1 copy not served because the lease lapsed (the tiered store calls it). */
  refused(): void {
    this.#events.onLeaseRefusal?.();
  }

  /** Taken before asking Redis; passed back to `changedSince` with the answer. A fence's `takenAt` is one too. */
  mark(): number {
    return this.#now();
  }

  /**
   * Whether an answer obtained since `mark` may be stale by now: the channel went down or came up, a
   * flush arrived, or a push named the key or one of the tags. True while the channel is down.
   */
  changedSince(mark: number, key: string, tags: readonly string[]): boolean {
    if (!this.#up || mark <= this.#horizon) return true;
    if (this.#lastPush < mark) return false;
    if ((this.#recent.get(`k|${key}`) ?? Number.NEGATIVE_INFINITY) >= mark) return true;
    return tags.some((tag) => (this.#recent.get(`g|${tag}`) ?? Number.NEGATIVE_INFINITY) >= mark);
  }

  /** Applies a push: drops what it names from L1 (all of L1 for a flush). */
  apply(invalidation: PushedInvalidation): void {
    if (invalidation.kind === "flush") {
      this.#flush("flush_message");
      return;
    }
    const at = this.#now();
    this.#lastPush = at;
    for (const key of invalidation.keys) this.#remember(`k|${key}`, at);
    for (const tag of invalidation.tags) this.#remember(`g|${tag}`, at);
    let dropped = 0;
    if (invalidation.keys.length > 0) dropped += this.#target.remove(invalidation.keys);
    if (invalidation.tags.length > 0) dropped += this.#target.removeTags(invalidation.tags);
    this.#events.onInvalidation?.(invalidation, dropped);
  }

  /** The channel is armed on every node: L1 is flushed (changes meanwhile were not pushed) and used again. */
  up(): void {
    if (this.#up) return;
    this.#up = true;
    this.#heardSinceUp = false;
    this.#downSince = undefined;
    this.#flush("channel_up");
    this.#events.onChannel?.(true);
  }

  /**
   * The channel lost a connection: L1 is flushed and bypassed until `up`. `lost`: an armed connection
   * closed or went silent (dates the outage, `downSince`); false for any other reason (a new cluster
   * master not armed yet, the channel closed).
   */
  down(options: { lost?: boolean } = {}): void {
    if (!this.#up) return;
    this.#up = false;
    this.#downSince = (options.lost ?? true) ? this.#now() : undefined;
    this.#flush("channel_down");
    this.#events.onChannel?.(false);
  }

  /** Redis answered this pod since the channel went down (a reconnection, a refused arming). */
  answered(): void {
    this.#downSince = undefined;
  }

  #flush(reason: FlushReason): void {
    this.#horizon = this.#now();
    this.#recent.clear();
    const dropped = this.#target.entries;
    this.#target.clear();
    this.#events.onFlush?.(reason, dropped);
  }

  #remember(name: string, at: number): void {
    this.#recent.delete(name); // re-inserted last: the Map's order is the order of pushes
    this.#recent.set(name, at);
    for (const [oldest, time] of this.#recent) {
      if (this.#recent.size <= this.#limit) break;
      this.#recent.delete(oldest);
      this.#horizon = Math.max(this.#horizon, time);
    }
  }
}
