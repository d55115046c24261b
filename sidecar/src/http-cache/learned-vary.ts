/**
 * The request fields a route's responses have named in `Vary`, remembered per route so that a fill
 * sends them from its first request (ADR 0013). Without this, the first fill of every new URL on a
 * varying route is asked twice: once with the key's fields only, then again with the fields its answer
 * turned out to vary on. A field is forgotten when no response of the route has named it for
 * `ttlMs`, and each route keeps at most `maxNames` (the most recently seen). Time is passed in: pure.
 */
export interface LearnedVaryLimits {
  readonly ttlMs: number;
  readonly maxNames: number;
  readonly maxRoutes: number;
  /** Longer names are not remembered (they would enter every entry's variant values on the route). */
  readonly maxNameLength: number;
}

export const LEARNED_VARY_LIMITS: LearnedVaryLimits = {
  ttlMs: 60 * 60 * 1000,
  maxNames: 16,
  maxRoutes: 1024,
  maxNameLength: 64,
};

export class LearnedVary {
  readonly #limits: LearnedVaryLimits;
  /** Route → field name → when a response last named it. Maps keep insertion order: oldest first. */
  readonly #routes = new Map<string, Map<string, number>>();

  constructor(limits: LearnedVaryLimits = LEARNED_VARY_LIMITS) {
    this.#limits = limits;
  }

  /** Remembers the fields one response of `route` varies on (lowercase names; `*` is ignored). */
  learn(route: string, names: readonly string[], now: number): void {
    if (names.length === 0) return;
    let seen = this.#routes.get(route);
    if (seen === undefined) {
      if (this.#routes.size >= this.#limits.maxRoutes) this.#dropOldestRoute();
      seen = new Map();
    } else {
      this.#routes.delete(route); // re-inserted below: most recently used last
    }
    this.#routes.set(route, seen);
    for (const name of names) {
      if (name === "*" || name.length > this.#limits.maxNameLength) continue;
      seen.delete(name);
      seen.set(name, now);
    }
    while (seen.size > this.#limits.maxNames) {
      const oldest = seen.keys().next().value as string;
      seen.delete(oldest);
    }
  }

  /** The fields `route`'s responses have named within the last `ttlMs`. */
  names(route: string, now: number): string[] {
    const seen = this.#routes.get(route);
    if (seen === undefined) return [];
    const out: string[] = [];
    for (const [name, at] of seen) {
      if (now - at > this.#limits.ttlMs) seen.delete(name);
      else out.push(name);
    }
    if (seen.size === 0) this.#routes.delete(route);
    return out;
  }

  #dropOldestRoute(): void {
    const oldest = this.#routes.keys().next().value;
    if (oldest !== undefined) this.#routes.delete(oldest);
  }
}
