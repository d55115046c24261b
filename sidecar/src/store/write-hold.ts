/**
 * How long a write whose invalidation Redis did not confirm is held before it is answered (ADR 0018,
 * "A partition from Redis"). Pure: the guard store (invalidation-guard-store.ts) asks it, with this
 * process's monotonic clock.
 *
 * Replicas' L1 copies serve only while a lease holds: a PING answered by Redis no more than `leaseMs`
 * ago (l1-coherence.ts). When every replica is cut from Redis at the same moment P, a replica that
 * cannot hear Redis stops serving L1 by P + leaseMs (its last answered PING was sent before P). An
 * invalidation whose last attempt (the guard's settle loop retries; attempts an open circuit skipped
 * are not sent) left at `sentAt` and that Redis did not take was cut in flight at the latest: P ≤
 * sentAt + commandTimeoutMs. So once `sentAt + commandTimeoutMs + leaseMs + marginMs` has passed, no
 * co-partitioned replica serves the copy the write made stale; the write is answered then.
 *
 * Earlier when this pod's own channel lost an armed connection at D (l1-coherence.ts `downSince`,
 * undefined when Redis answered since): that outage began before D (P ≤ D), so from
 * D + leaseMs + marginMs on every co-partitioned replica's lease has lapsed — a write in a Redis outage
 * older than the lease is not held at all. And earlier still when the invalidation is applied (the
 * guard's retry drains it): Redis then pushes it like any other.
 */
export interface WriteHoldOptions {
  /** The replicas' L1 lease (l1-coherence.ts). */
  readonly leaseMs: number;
  /** The Redis command timeout: how long an invalidation may have been in flight. */
  readonly commandTimeoutMs: number;
  /** For timers firing late and clocks of other processes ticking a little apart. */
  readonly marginMs: number;
}

/** When a write whose invalidation was sent at `sentAt` may be answered (this clock). */
export function writeHoldDeadline(
  options: WriteHoldOptions,
  sentAt: number,
  channelDownSince: number | undefined,
): number {
  const lapsed = sentAt + options.commandTimeoutMs + options.leaseMs + options.marginMs;
  if (channelDownSince === undefined) return lapsed;
  return Math.min(lapsed, channelDownSince + options.leaseMs + options.marginMs);
}

/**
 * At a held write's deadline, whether to hold on, and until when (undefined: answer now). The proof
 * above is about replicas that cannot hear Redis. If this pod hears Redis *again* when the deadline
 * comes (it did not at some moment of the hold: a partition healed meanwhile, without taking any
 * channel down), replicas that hear it too have renewed their leases and serve L1: the copy this write
 * made stale stays served until the invalidation is applied. So the write holds on while the guard
 * retries it at once (and on every re-check), for one more hold at most: a retry sent now that Redis
 * does not take was cut in flight at the latest, the same proof from `now`. Never past
 * `start + 2 × hold`: this pod hearing Redis while its invalidations time out for that long is a
 * brownout, which the hold does not cover (the others may hear Redis too, and nothing but the
 * invalidation stops their L1). `hearsRedis` is whether the pod hears Redis at the deadline, again or
 * throughout: hearing is the lease, which outlives a cut by up to leaseMs, so a pod that "heard Redis
 * throughout" may have been cut off and healed meanwhile — it is held on as well.
 */
export function holdOnAtDeadline(
  options: WriteHoldOptions,
  at: { readonly start: number; readonly now: number; readonly hearsRedis: boolean },
): number | undefined {
  if (!at.hearsRedis) return undefined;
  const hold = options.commandTimeoutMs + options.leaseMs + options.marginMs;
  const until = Math.min(at.now + hold, at.start + 2 * hold);
  return until > at.now ? until : undefined;
}

/** Default margin: a timer that fires late on a loaded node, and clock rate differences. */
export const DEFAULT_WRITE_HOLD_MARGIN_MS = 50;
