/**
 * The dashboard's Improvement, measured by the load generator: 1 − Σ time the clients waited through the
 * sidecar / Σ what the same requests would have cost the API behind it, each priced at its endpoint's
 * mean time when the sidecar forwarded it (a miss, a bypass, a write). An endpoint that the sidecar
 * never forwarded in the window is priced from the earlier requests (priming and warm-up), as the panel
 * falls back to the last day; one never forwarded at all is left out of both sums, as in the panel.
 *
 * This is the figure the panel can be checked against: the sidecar only sees the API it has made
 * quieter. The bench's mean improvement over the direct path also counts the queueing the cache took
 * off the API, which no metric of the sidecar can see (ADR 0026). Pure.
 */
import type { Sample } from "./stats.js";

type Endpoint = Sample["endpoint"];

const forwarded = (s: Sample) => s.cache !== "hit" && !s.failed;

function meanForwarded(samples: readonly Sample[]): Map<Endpoint, number> {
  const sums = new Map<Endpoint, { total: number; n: number }>();
  for (const s of samples.filter(forwarded)) {
    const sum = sums.get(s.endpoint) ?? { total: 0, n: 0 };
    sum.total += s.latencyMs;
    sum.n += 1;
    sums.set(s.endpoint, sum);
  }
  return new Map([...sums].map(([endpoint, { total, n }]) => [endpoint, total / n]));
}

/** A ratio (0–1); NaN when no request of the window could be priced. */
export function pricedImprovement(measured: readonly Sample[], earlier: readonly Sample[]): number {
  const inWindow = meanForwarded(measured);
  const before = meanForwarded(earlier);
  let waited = 0;
  let wouldCost = 0;
  for (const s of measured) {
    const cost = inWindow.get(s.endpoint) ?? before.get(s.endpoint);
    if (cost === undefined) continue;
    waited += s.latencyMs;
    wouldCost += cost;
  }
  return wouldCost > 0 ? 1 - waited / wouldCost : Number.NaN;
}
