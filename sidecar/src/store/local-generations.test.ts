import { describe, expect, it } from "vitest";
import { LocalGenerations } from "./local-generations.js";

describe("local tag generations", () => {
  it("says a tag moved once it was invalidated after the fence, and only that tag", () => {
    const generations = new LocalGenerations();
    generations.bump(["a"]);
    const since = generations.current;
    expect(generations.movedSince(since, ["a", "b"])).toBe(false);
    generations.bump(["b"]);
    expect(generations.movedSince(since, ["a"])).toBe(false);
    expect(generations.movedSince(since, ["a", "b"])).toBe(true);
  });

  it("ignores an invalidation of no tags", () => {
    const generations = new LocalGenerations();
    generations.bump([]);
    expect(generations.current).toBe(0);
  });

  it("doubts every fence older than a tag it had to forget", () => {
    const generations = new LocalGenerations(2);
    const since = generations.current;
    generations.bump(["a"]);
    generations.bump(["b"]);
    generations.bump(["c"]); // forgets "a"
    expect(generations.movedSince(since, ["x"])).toBe(true);
    const later = generations.current;
    generations.bump(["d"]);
    expect(generations.movedSince(later, ["x"])).toBe(false);
    expect(generations.movedSince(later, ["d"])).toBe(true);
  });

  it("keeps a re-invalidated tag as the most recent one", () => {
    const generations = new LocalGenerations(2);
    generations.bump(["a"]);
    generations.bump(["b"]);
    generations.bump(["a"]);
    const since = generations.current;
    generations.bump(["c"]); // forgets "b", not "a"
    expect(generations.movedSince(since - 1, ["a"])).toBe(true);
    expect(generations.movedSince(since, ["a"])).toBe(false);
  });
});
