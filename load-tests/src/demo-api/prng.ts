/**
 * A small seeded PRNG (mulberry32) and the distributions the dataset generator and the load scenarios
 * draw from. Deterministic: the same seed gives the same sequence on every machine, so a generated
 * dataset (and a scenario's request stream) is reproducible.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** One element of a non-empty array. */
  pick<T>(values: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (values) => {
      if (values.length === 0) throw new RangeError("pick() needs a non-empty array");
      return values[Math.floor(next() * values.length)] as (typeof values)[number];
    },
    chance: (p) => next() < p,
  };
}

/**
 * Draws integers in [min, max] with a Zipf-like skew: value min + k - 1 has weight 1 / k^exponent.
 * Precomputes the cumulative weights once; each draw is a binary search.
 */
export function zipfSampler(min: number, max: number, exponent: number): (random: Random) => number {
  if (max < min) throw new RangeError(`zipf range [${min}, ${max}] is empty`);
  const cumulative: number[] = [];
  let total = 0;
  for (let k = 1; k <= max - min + 1; k++) {
    total += 1 / k ** exponent;
    cumulative.push(total);
  }
  return (random) => min + lowerBound(cumulative, random.next() * total);
}

/** Draws an index with probability proportional to its weight. */
export function weightedSampler(weights: readonly number[]): (random: Random) => number {
  const cumulative: number[] = [];
  let total = 0;
  for (const weight of weights) {
    if (!(weight >= 0)) throw new RangeError(`weights must be >= 0, got ${weight}`);
    total += weight;
    cumulative.push(total);
  }
  if (total <= 0) throw new RangeError("at least one weight must be positive");
  return (random) => lowerBound(cumulative, random.next() * total);
}

/** The first index whose cumulative value exceeds x. */
function lowerBound(cumulative: readonly number[], x: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
