import { CACHEABLE_OUTCOMES, SERVED_FROM_CACHE_OUTCOMES } from "../http-cache/cache-outcome.js";
import type { CompiledPolicy } from "../routing/compile-policy.js";
import type { StatsSnapshot } from "./stats-recorder.js";

/**
 * GET /stats: the performance report the original platform's benchmark endpoint gave, per route:
 * requests by outcome, hit ratio, p50/p95 latency served from cache vs from the upstream, the estimated
 * improvement, and plain-language recommendations. Pure.
 */
export interface RouteReport {
  readonly route: string;
  readonly requests: number;
  readonly outcomes: Readonly<Record<string, number>>;
  /** Served from cache / cache candidates (bypass excluded); null without candidates. */
  readonly hitRatio: number | null;
  readonly latencyMs: {
    readonly cache: { readonly p50: number | null; readonly p95: number | null };
    readonly upstream: { readonly p50: number | null; readonly p95: number | null };
  };
  /** Estimated mean latency reduction vs. always asking the upstream, in percent; null when unknown. */
  readonly improvementPercent: number | null;
  readonly stored: number;
  readonly recommendations: readonly string[];
}

export interface StatsReport {
  readonly policy: string;
  readonly configHash: string;
  readonly mode: string;
  readonly uptimeSeconds: number;
  readonly routes: readonly RouteReport[];
}

const MIN_REQUESTS = 20;

export function buildStatsReport(snapshot: StatsSnapshot, policy: CompiledPolicy): StatsReport {
  const names = [...new Set([...policy.routes.map((route) => route.name), ...Object.keys(snapshot.routes)])];
  return {
    policy: policy.label,
    configHash: policy.hash,
    mode: policy.mode,
    uptimeSeconds: Math.round(snapshot.uptimeMs / 1000),
    routes: names.map((name) => routeReport(name, snapshot, policy)),
  };
}

function routeReport(name: string, snapshot: StatsSnapshot, policy: CompiledPolicy): RouteReport {
  const data = snapshot.routes[name];
  const outcomes = data?.outcomes ?? {};
  const count = (labels: readonly string[]) =>
    labels.reduce((sum, label) => sum + ((outcomes as Record<string, number>)[label] ?? 0), 0);
  const requests = Object.values(outcomes).reduce((sum, n) => sum + (n ?? 0), 0);
  const candidates = count(CACHEABLE_OUTCOMES);
  const served = count(SERVED_FROM_CACHE_OUTCOMES);
  const hitRatio = candidates > 0 ? served / candidates : null;
  const cache = percentiles(data?.cacheSeconds ?? []);
  const upstream = percentiles(data?.upstreamSeconds ?? []);
  let improvementPercent: number | null = null;
  if (hitRatio !== null && cache.p50 !== null && upstream.p50 !== null && upstream.p50 > 0) {
    const expected = hitRatio * cache.p50 + (1 - hitRatio) * upstream.p50;
    improvementPercent = round((1 - expected / upstream.p50) * 100);
  }
  const report = {
    route: name,
    requests,
    outcomes: outcomes as Record<string, number>,
    hitRatio: hitRatio === null ? null : round(hitRatio),
    latencyMs: { cache, upstream },
    improvementPercent,
    stored: data?.stored ?? 0,
  };
  return { ...report, recommendations: recommend(report, data?.reasons ?? {}, snapshot, policy) };
}

function recommend(
  report: Omit<RouteReport, "recommendations">,
  reasons: Readonly<Record<string, number>>,
  snapshot: StatsSnapshot,
  policy: CompiledPolicy,
): string[] {
  const out: string[] = [];
  const route = policy.routes.find((candidate) => candidate.name === report.route);
  if (!route) return out;
  const served = SERVED_FROM_CACHE_OUTCOMES.reduce((sum, label) => sum + (report.outcomes[label] ?? 0), 0);
  const top = topReason(reasons);
  if (report.requests === 0 && snapshot.uptimeMs > 60_000) {
    out.push(
      `No request matched route "${report.route}" yet: check its path template (${route.matcher.source}) and methods.`,
    );
  }
  if (report.requests >= MIN_REQUESTS && served === 0) {
    out.push(
      `Route "${report.route}" was never served from cache${top ? `; most requests ended as ${top.replace(":", " (")})` : ""}. ${advice(top)}`,
    );
  }
  const hits = report.outcomes.hit ?? 0;
  if (report.stored >= 10 && hits < report.stored * 0.5) {
    out.push(
      `Entries of "${report.route}" mostly expire unused (${hits} hits for ${report.stored} stored entries): raise ttl (now ${seconds(route.rules.ttlMs)}) or key on fewer query parameters/headers.`,
    );
  }
  const changes = invalidationsOf(route.tags.length > 0 ? policyTagsFor(policy, report.route) : [], snapshot);
  const uptime = snapshot.uptimeMs;
  if (
    route.tags.length > 0 &&
    uptime > 10 * route.rules.ttlMs &&
    (changes + 1) * 10 * route.rules.ttlMs < uptime
  ) {
    const interval = changes > 0 ? `every ~${seconds(uptime / changes)}` : `not once in ${seconds(uptime)}`;
    out.push(
      `ttl ${seconds(route.rules.ttlMs)} of "${report.route}" is far below how often its data changes (invalidated ${interval}): writes already invalidate its tags, so a longer ttl is safe and raises the hit ratio.`,
    );
  }
  return out;
}

function advice(reason: string | undefined): string {
  if (reason?.startsWith("bypass:identifying-request")) {
    return "Requests carry credentials (Authorization or cookies): set key.scope PerUser, or list the identifying cookies in spec.identity.cookies.";
  }
  if (reason?.startsWith("uncacheable:")) {
    return "The upstream's responses are not storable for a shared cache (see the reason); fix its Cache-Control/Set-Cookie or the route's cacheableStatuses.";
  }
  return "Check the Cache-Status header of its responses for the reason.";
}

function topReason(reasons: Readonly<Record<string, number>>): string | undefined {
  let best: [string, number] | undefined;
  for (const entry of Object.entries(reasons)) if (!best || entry[1] > best[1]) best = entry;
  return best?.[0];
}

/** Static tag names (placeholders cut at `{`) of a route, from the policy text. */
function policyTagsFor(policy: CompiledPolicy, routeName: string): string[] {
  const spec = policy.policy.spec.routes.find((route) => route.name === routeName);
  return (spec?.tags ?? []).map((tag) => tag.split("{")[0] as string);
}

function invalidationsOf(prefixes: readonly string[], snapshot: StatsSnapshot): number {
  let total = 0;
  for (const [tag, count] of Object.entries(snapshot.invalidatedTags)) {
    if (prefixes.some((prefix) => (prefix.endsWith(":") ? tag.startsWith(prefix) : tag === prefix)))
      total += count;
  }
  return total;
}

function percentiles(samples: readonly number[]): { p50: number | null; p95: number | null } {
  if (samples.length === 0) return { p50: null, p95: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) * 1000);
  return { p50: at(0.5), p95: at(0.95) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function seconds(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)}m` : `${Math.round(ms / 1000)}s`;
}
