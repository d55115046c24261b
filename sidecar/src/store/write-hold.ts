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

/** Default margin: a timer that fires late on a loaded node, and clock rate differences. */
export const DEFAULT_WRITE_HOLD_MARGIN_MS = 50;
