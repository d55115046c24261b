import { type CacheOutcomeLabel, SERVED_FROM_CACHE_OUTCOMES } from "../http-cache/cache-outcome.js";

/**
 * In-process counters behind GET /stats (the original platform's performance report): per route,
 * requests by outcome, recent latencies (a ring of the last samples) served from cache vs from the
 * upstream, entries stored, and invalidations per tag. Bounded memory; no I/O.
 */
const SAMPLES = 1024;

export class Reservoir {
  readonly #values = new Float64Array(SAMPLES);
  #count = 0;

  add(value: number): void {
    this.#values[this.#count % SAMPLES] = value;
    this.#count++;
  }

  /** The recent samples (unordered). */
  values(): number[] {
    return Array.from(this.#values.subarray(0, Math.min(this.#count, SAMPLES)));
  }
}

export interface RouteCounters {
  readonly outcomes: Map<CacheOutcomeLabel, number>;
  readonly cacheSeconds: Reservoir;
  readonly upstreamSeconds: Reservoir;
  /** Why requests were not served from / stored in the cache: "uncacheable:set-cookie", "bypass:no-route". */
  readonly reasons: Map<string, number>;
  stored: number;
}

export interface StatsSnapshot {
  /** ms since the recorder started. */
  readonly uptimeMs: number;
  readonly routes: Readonly<
    Record<
      string,
      {
        readonly outcomes: Readonly<Partial<Record<CacheOutcomeLabel, number>>>;
        readonly cacheSeconds: readonly number[];
        readonly upstreamSeconds: readonly number[];
        readonly reasons: Readonly<Record<string, number>>;
        readonly stored: number;
      }
    >
  >;
  /** Invalidations per tag since start. */
  readonly invalidatedTags: Readonly<Record<string, number>>;
}

const SERVED_FROM_CACHE: ReadonlySet<string> = new Set(SERVED_FROM_CACHE_OUTCOMES);
const MAX_TAGS = 10_000;

export class StatsRecorder {
  readonly #routes = new Map<string, RouteCounters>();
  readonly #tags = new Map<string, number>();
  readonly #started: number;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#started = now();
  }

  request(route: string, outcome: CacheOutcomeLabel, seconds: number, reason?: string): void {
    const counters = this.#route(route);
    counters.outcomes.set(outcome, (counters.outcomes.get(outcome) ?? 0) + 1);
    if (reason !== undefined) {
      const id = `${outcome}:${reason}`;
      counters.reasons.set(id, (counters.reasons.get(id) ?? 0) + 1);
    }
    if (SERVED_FROM_CACHE.has(outcome)) counters.cacheSeconds.add(seconds);
    else if (outcome !== "bypass" && outcome !== "error") counters.upstreamSeconds.add(seconds);
  }

  stored(route: string): void {
    this.#route(route).stored++;
  }

  invalidated(tags: readonly string[]): void {
    for (const tag of tags) {
      if (tag.startsWith("~")) continue;
      if (this.#tags.size >= MAX_TAGS && !this.#tags.has(tag)) continue;
      this.#tags.set(tag, (this.#tags.get(tag) ?? 0) + 1);
    }
  }

  snapshot(): StatsSnapshot {
    const routes: Record<string, StatsSnapshot["routes"][string]> = {};
    for (const [name, counters] of this.#routes) {
      routes[name] = {
        outcomes: Object.fromEntries(counters.outcomes),
        cacheSeconds: counters.cacheSeconds.values(),
        upstreamSeconds: counters.upstreamSeconds.values(),
        reasons: Object.fromEntries(counters.reasons),
        stored: counters.stored,
      };
    }
    return { uptimeMs: this.#now() - this.#started, routes, invalidatedTags: Object.fromEntries(this.#tags) };
  }

  #route(route: string): RouteCounters {
    let counters = this.#routes.get(route);
    if (counters === undefined) {
      counters = {
        outcomes: new Map(),
        cacheSeconds: new Reservoir(),
        upstreamSeconds: new Reservoir(),
        reasons: new Map(),
        stored: 0,
      };
      this.#routes.set(route, counters);
    }
    return counters;
  }
}
