import type { CacheOutcome, RealOutcome } from "../http-cache/cache-outcome.js";
import { ttlSeconds } from "../http-cache/freshness.js";
import { type Storability, storability } from "../http-cache/storability.js";
import { classifyLookup } from "./cache-path.js";
import type { CacheableRequest } from "./cacheable-request.js";
import type { Exchange } from "./context.js";
import { storeFetched } from "./fill-store.js";
import { passThrough } from "./pass-through.js";
import { readVariant } from "./variants.js";

/**
 * mode Shadow: every decision is made and measured (`shadow-hit`, `shadow-miss`, …) but the client is
 * always answered by the upstream, with its own request unchanged. What would have been stored is
 * stored under a separate key space, so would-be hits are real measurements and an Enforce switch never
 * serves an entry fetched with a client's unfiltered request.
 */
export async function serveShadow(x: Exchange, c: CacheableRequest): Promise<void> {
  const { ctx, req } = x;
  const { entry } = await readVariant(ctx, c);
  const now = ctx.now();
  const lookup = classifyLookup(entry, c, now);
  let wouldBe: RealOutcome;
  if (lookup.kind === "fresh") wouldBe = { kind: "hit", ttl: ttlSeconds(lookup.entry, now) };
  else if (lookup.kind === "stale-while-revalidate")
    wouldBe = { kind: "stale-while-revalidate", ttl: ttlSeconds(lookup.entry, now) };
  else wouldBe = { kind: "miss", fwd: lookup.fwd, fwdStatus: 0 };
  const refill = lookup.kind !== "fresh";
  let decision: Storability | undefined;
  const seq = ctx.invalidator.seq;
  await passThrough(x, {
    route: c.route.name,
    outcome: { kind: "shadow", wouldBe },
    beforeHead: async (status, headers) => {
      if (!refill) return undefined;
      decision = storability({
        rules: c.route.rules,
        status,
        headers,
        requestAuthorized: c.requestAuthorized,
        now: ctx.now(),
      });
      if (decision.storable || lookup.kind !== "fill") return undefined;
      const uncacheable: CacheOutcome = {
        kind: "shadow",
        wouldBe: { kind: "uncacheable", fwd: lookup.fwd, fwdStatus: status, reason: decision.reason },
      };
      return uncacheable;
    },
    ...(refill && req.method === "GET"
      ? {
          tee: {
            limit: c.route.rules.maxBodyBytes,
            done: (status, headers, body) => {
              if (body === undefined || !decision?.storable) return;
              if (ctx.invalidator.invalidatedSince(seq, c.key, c.tags)) return;
              void storeFetched(ctx, c, { status, headers, body }, decision);
            },
          },
        }
      : {}),
  });
}
