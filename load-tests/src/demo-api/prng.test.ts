import { describe, expect, it } from "vitest";
import { createRandom, weightedSampler, zipfSampler } from "./prng.js";

describe("createRandom", () => {
  it("gives the same sequence for the same seed", () => {
    const a = createRandom(42);
    const b = createRandom(42);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
  });

  it("gives different sequences for different seeds", () => {
    expect(createRandom(1).next()).not.toBe(createRandom(2).next());
  });

  it("keeps int() within its inclusive bounds and reaches both ends", () => {
    const random = createRandom(7);
    const seen = new Set(Array.from({ length: 2000 }, () => random.int(3, 6)));
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });

  it("refuses to pick from an empty array", () => {
    expect(() => createRandom(1).pick([])).toThrow(RangeError);
  });
});

describe("zipfSampler", () => {
  it("draws only within [min, max] and favours the low end", () => {
    const random = createRandom(3);
    const draw = zipfSampler(10, 29, 1.0);
    const counts = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const v = draw(random);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect(Math.min(...counts.keys())).toBe(10);
    expect(Math.max(...counts.keys())).toBe(29);
    expect(counts.get(10) as number).toBeGreaterThan(3 * (counts.get(29) as number));
  });
});

describe("weightedSampler", () => {
  it("never draws an index whose weight is zero", () => {
    const random = createRandom(5);
    const draw = weightedSampler([0, 1, 0, 3]);
    const seen = new Set(Array.from({ length: 1000 }, () => draw(random)));
    expect([...seen].sort()).toEqual([1, 3]);
  });

  it.each([[[]], [[0, 0]], [[1, -1]]])("rejects weights %j", (weights) => {
    expect(() => weightedSampler(weights)).toThrow(RangeError);
  });
});
