import type { ForwardReason } from "../http-cache/cache-outcome.js";
import { entryState } from "../http-cache/freshness.js";
import { fillLeaseMs } from "../store/lease-layout.js";
import type { FillLeaseOutcome } from "../telemetry/metric-names.js";
import { type CacheableRequest, matchesVary } from "./cacheable-request.js";
import type { FillResult, ProxyContext } from "./context.js";
import { readVariant } from "./variants.js";

/**
 * Cross-pod coalescing (ADR 0019): the step a local fill leader takes before it asks the upstream,
 * when the store is Redis. It asks for the key's lease: taken, it fills (and releases once stored);
 * held by another pod, it waits to be woken by that pod's release — at most what is left of the
 * lease — then reads the store: a fresh entry is served to this pod's waiters as a coalesced hit,
 * anything else (no entry: an uncacheable answer, an error, a dead holder) and it fetches itself.
 * When the lease ran out first (a fill slower than its lease), it fetches itself but still listens:
 * should the holder's entry land before its own answer, that entry is served (`late`).
 * Redis unreachable or slow, or no notifications: it fetches at once, as without leases.
 */
export type CrossPodStep =
  | { readonly kind: "fetch"; readonly release?: () => Promise<void>; readonly late?: LateFill }
  | { readonly kind: "served"; readonly result: FillResult };

/** The fill of a holder whose lease ran out: resolves (only) with its stored entry; `cancel` when done. */
export interface LateFill {
  readonly landed: Promise<FillResult>;
  cancel(): void;
}

export async function crossPodStep(
  ctx: ProxyContext,
  c: CacheableRequest,
  fwd: ForwardReason,
  refresh = false,
): Promise<CrossPodStep> {
  const leases = ctx.leases;
  if (leases === undefined) return { kind: "fetch" };
  const count = (outcome: FillLeaseOutcome) =>
    ctx.metrics.fillLeases.labels(c.policy.label, c.route.name, outcome).inc();
  const attempting = leases.attempt(c.key, fillLeaseMs(c.policy.upstreamTimeoutMs));
  // Sent after the lease's SET NX, on the same connection (same slot): if the lease was free because
  // another pod just stored and released it, this read sees that entry. (Not for a forced refresh,
  // which asks the upstream whatever is stored.)
  const reading = refresh ? Promise.resolve(undefined) : peerEntry(ctx, c, fwd).catch(() => undefined);
  const attempt = await attempting;
  if (attempt.kind === "unavailable") {
    void reading;
    count("unavailable");
    return attempt.release ? { kind: "fetch", release: attempt.release } : { kind: "fetch" };
  }
  if (attempt.kind === "taken") {
    const stored = await reading;
    if (stored === undefined) {
      count("taken");
      return { kind: "fetch", release: attempt.release };
    }
    await attempt.release();
    return served(ctx, c, stored, count);
  }
  void reading;
  const how = await attempt.settled;
  const stored = await peerEntry(ctx, c, fwd);
  if (stored !== undefined || how === "woken") attempt.cancel();
  if (stored !== undefined) return served(ctx, c, stored, count);
  count(how === "woken" ? "not_stored" : "timed_out");
  if (how === "woken") return { kind: "fetch" };
  const landed = attempt.released
    .then(() => peerEntry(ctx, c, fwd))
    .catch(() => undefined)
    .then((entry) => {
      if (entry === undefined) return new Promise<never>(() => undefined);
      ctx.observer.coalesced(c.policy.label, c.route.name);
      return entry;
    });
  return { kind: "fetch", late: { landed, cancel: attempt.cancel } };
}

function served(
  ctx: ProxyContext,
  c: CacheableRequest,
  result: FillResult,
  count: (outcome: FillLeaseOutcome) => void,
): CrossPodStep {
  count("woken");
  ctx.observer.coalesced(c.policy.label, c.route.name);
  return { kind: "served", result };
}

/**
 * A fresh entry another pod stored for this request, as a fill result; undefined otherwise. Read from
 * Redis: this pod's L1 may still hold the stale copy whose lookup started this fill.
 */
async function peerEntry(
  ctx: ProxyContext,
  c: CacheableRequest,
  fwd: ForwardReason,
): Promise<FillResult | undefined> {
  let read = await readVariant(ctx, c, true);
  // The store did not answer (a busy process, a blip): once more before fetching for nothing.
  if (read.failed) read = await readVariant(ctx, c, true);
  const { entry } = read;
  if (entry === undefined || !matchesVary(entry.vary, c)) return undefined;
  if (entryState(entry, ctx.now()) !== "fresh") return undefined;
  return { kind: "entry", entry, stored: true, fwd, peer: true };
}
