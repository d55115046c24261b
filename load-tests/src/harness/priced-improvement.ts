/**
 * The dashboard's Improvement, measured by the load generator: 1 − Σ time the clients waited through the
 * sidecar / Σ what the same requests would have cost the API behind it, each priced at its route's
 * mean time when the sidecar forwarded it (a miss, a bypass, a write). The requests are grouped as the
 * panel groups them: by the route the sidecar labels each with (sidecar-route.ts), not by the load's
 * endpoint types; requests labelled "none" are left out, as the panel's `route!="none"` leaves them
 * out. A route that the sidecar never forwarded in the window is priced from the earlier requests
 * (priming and warm-up), as the panel falls back to the last day; one never forwarded at all is left
 * out of both sums, as in the panel.
 *
 * This is the figure the panel can be checked against: the sidecar only sees the API it has made
 * quieter. The bench's mean improvement over the direct path also counts the queueing the cache took
 * off the API, which no metric of the sidecar can see (ADR 0026). Pure.
 */
import { NO_ROUTE } from "./sidecar-route.js";
import type { TimedRequest } from "./stats.js";

/** What pricing needs of a request. */
export type Priced = Pick<TimedRequest, "latencyMs" | "cache" | "failed">;

const forwarded = (s: Priced) => s.cache !== "hit" && !s.failed;

function meanForwarded<T extends Priced>(samples: readonly T[], routeOf: (s: T) => string) {
  const sums = new Map<string, { total: number; n: number }>();
  for (const s of samples) {
    if (!forwarded(s)) continue;
    const route = routeOf(s);
    const sum = sums.get(route) ?? { total: 0, n: 0 };
    sum.total += s.latencyMs;
    sum.n += 1;
    sums.set(route, sum);
  }
  return new Map([...sums].map(([route, { total, n }]) => [route, total / n]));
}

/**
 * A ratio (0–1); NaN when no request of the window could be priced. `routeOf` groups the requests
 * (the sidecar's route label; "none" is left out).
 */
export function pricedImprovement<T extends Priced>(
  measured: readonly T[],
  earlier: readonly T[],
  routeOf: (s: T) => string,
): number {
  const inWindow = meanForwarded(measured, routeOf);
  const before = meanForwarded(earlier, routeOf);
  let waited = 0;
  let wouldCost = 0;
  for (const s of measured) {
    const route = routeOf(s);
    if (route === NO_ROUTE) continue;
    const cost = inWindow.get(route) ?? before.get(route);
    if (cost === undefined) continue;
    waited += s.latencyMs;
    wouldCost += cost;
  }
  return wouldCost > 0 ? 1 - waited / wouldCost : Number.NaN;
}
