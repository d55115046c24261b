import { describe, expect, it } from "vitest";
import { LearnedVary } from "./learned-vary.js";

describe("LearnedVary", () => {
  const limits = { ttlMs: 1_000, maxNames: 3, maxRoutes: 2, maxNameLength: 8 };

  it("knows nothing about a route no response has varied on", () => {
    expect(new LearnedVary(limits).names("r", 0)).toEqual([]);
  });

  it("remembers each route's fields apart, once each, and never `*` or an overlong name", () => {
    const learned = new LearnedVary(limits);
    learned.learn("a", ["x-tenant", "*", "x-much-too-long"], 0);
    learned.learn("a", ["x-tenant", "foo"], 10);
    learned.learn("b", ["bar"], 10);
    expect(learned.names("a", 20)).toEqual(["x-tenant", "foo"]);
    expect(learned.names("b", 20)).toEqual(["bar"]);
  });

  it("forgets a field no response has named for ttlMs, and a route left with none", () => {
    const learned = new LearnedVary(limits);
    learned.learn("a", ["old"], 0);
    learned.learn("a", ["new"], 600);
    expect(learned.names("a", 1_001)).toEqual(["new"]);
    // Seen again: its clock restarts.
    learned.learn("a", ["new"], 1_500);
    expect(learned.names("a", 2_400)).toEqual(["new"]);
    expect(learned.names("a", 2_501)).toEqual([]);
  });

  it("keeps the most recently named fields of a route, at most maxNames", () => {
    const learned = new LearnedVary(limits);
    learned.learn("a", ["f1", "f2", "f3"], 0);
    learned.learn("a", ["f1"], 1);
    learned.learn("a", ["f4"], 2);
    expect(learned.names("a", 3).sort()).toEqual(["f1", "f3", "f4"]);
  });

  it("keeps at most maxRoutes routes, dropping the one least recently varied", () => {
    const learned = new LearnedVary(limits);
    learned.learn("a", ["x"], 0);
    learned.learn("b", ["x"], 1);
    learned.learn("a", ["y"], 2);
    learned.learn("c", ["x"], 3);
    expect(learned.names("b", 4)).toEqual([]);
    expect(learned.names("a", 4)).toEqual(["x", "y"]);
    expect(learned.names("c", 4)).toEqual(["x"]);
  });
});
