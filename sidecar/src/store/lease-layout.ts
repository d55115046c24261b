import { keySlot, slotTag } from "./cluster-slot.js";
import { entryKey } from "./redis-layout.js";

/**
 * Pure description of the cross-pod leases (ADR 0019), next to the entry layout of redis-layout.ts.
 *
 * Fill leases: `<prefix>:l|{<tag>}<key>` — `<tag>` is a hash tag chosen so that the lease lives in
 * the same Cluster slot as the entry `<prefix>:k|<key>` (whatever the key holds, braces included):
 * the lease holder's `SET NX` and a read of the entry pipelined after it reach the same node over one
 * connection, in order. A miss takes the lease with `SET <lease> <token> NX PX <ms>`; the holder
 * stores as before (the fence of ADR 0005 still guards the store), then releases it with
 * RELEASE_LUA, which deletes only its own token and publishes the key on `<prefix>:fills`.
 *
 * Warm leases: `<prefix>:w|<slot>|<host>|<path>`, one per warm entry and interval slot (the wall
 * clock divided into `every`-long slots), taken with `SET NX PX`: the replica that takes it warms.
 */
export function fillLeaseKey(prefix: string, key: string): string {
  return `${prefix}:l|{${slotTag(keySlot(entryKey(prefix, key)))}}${key}`;
}

/** The channel lease holders publish released keys on (plain pub/sub: a Cluster broadcasts it). */
export function fillChannel(prefix: string): string {
  return `${prefix}:fills`;
}

export function warmLeaseKey(prefix: string, entry: { path: string; host?: string }, slot: number): string {
  return `${prefix}:w|${slot}|${entry.host ?? ""}|${entry.path}`;
}

/** The longest a dead lease holder can make others wait, whatever the upstream timeout. */
export const FILL_LEASE_CAP_MS = 5_000;
/** Added to the upstream timeout: the holder's store and release after the answer. */
export const FILL_LEASE_SLACK_MS = 250;

/**
 * A fill lease lasts as long as a live holder may take (the route's upstream timeout, plus the time
 * to store), capped: past the cap, waiters stop trusting the holder and fetch for themselves.
 */
export function fillLeaseMs(upstreamTimeoutMs: number): number {
  return Math.min(FILL_LEASE_CAP_MS, Math.max(1, Math.ceil(upstreamTimeoutMs)) + FILL_LEASE_SLACK_MS);
}

/**
 * What a miss does after `SET NX` (and a PTTL of the lease pipelined with it): lead when it took the
 * lease; wait while another pod holds it, at most what is left of that lease (never more than the
 * lease time) plus `marginMs` for the holder's release to arrive; when the lease vanished between the
 * two commands, look again at once (wait 0).
 */
export type LeaseDecision = { readonly kind: "lead" } | { readonly kind: "wait"; readonly waitMs: number };

export function leaseDecision(
  setReply: string | null,
  pttlMs: number,
  leaseMs: number,
  marginMs: number,
): LeaseDecision {
  if (setReply === "OK") return { kind: "lead" };
  // -2: gone (released meanwhile), -1: no expiry (never set by apicache; trust it for one lease).
  if (pttlMs === -2) return { kind: "wait", waitMs: 0 };
  const left = pttlMs < 0 ? leaseMs : Math.min(pttlMs, leaseMs);
  return { kind: "wait", waitMs: left + marginMs };
}

/**
 * KEYS[1] the lease; ARGV[1] the holder's token, ARGV[2] the channel, ARGV[3] the key. Deletes the
 * lease only if it still holds the token (an expired lease may belong to another pod now), and
 * publishes the key either way: pods whose wait ran out before this fill ended still listen for it
 * (a wake-up only makes a pod read the store). Returns 1 when released, 0 otherwise.
 */
export const RELEASE_LUA = `
local held = redis.call('GET', KEYS[1]) == ARGV[1]
if held then
  redis.call('DEL', KEYS[1])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
if held then
  return 1
end
return 0
`;

/** The interval slot a moment falls in, for an entry warmed every `everyMs`. */
export function warmSlot(nowMs: number, everyMs: number): number {
  return Math.floor(nowMs / everyMs);
}

/** How long from `nowMs` until the next slot starts (> 0). */
export function msUntilNextSlot(nowMs: number, everyMs: number): number {
  return (warmSlot(nowMs, everyMs) + 1) * everyMs - nowMs;
}

/** A warm lease outlives its slot (clocks of pods differ a little), then goes. */
export function warmLeaseMs(nowMs: number, everyMs: number): number {
  return msUntilNextSlot(nowMs, everyMs) + everyMs;
}
