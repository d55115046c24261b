import { describe, expect, it } from "vitest";
import { Coalescer } from "./coalescer.js";
import { PassMarks } from "./pass-marks.js";

describe("hit-for-pass marks", () => {
  it("let requests for a key skip coalescing until the mark runs out", () => {
    const marks = new PassMarks();
    marks.mark("k", ["slots"], 1_000);
    expect(marks.passes("k", 999)).toBe(true);
    expect(marks.passes("other", 999)).toBe(false);
    expect(marks.passes("k", 1_000)).toBe(false);
    expect(marks.passes("k", 0)).toBe(false); // forgotten once expired
  });

  it("are forgotten when the key is stored, or a write concerns its key or tags", () => {
    const coalescer = new Coalescer<string>();
    const marks = coalescer.passMarks;
    marks.mark("a", ["slots"], 1_000);
    marks.mark("b", ["other"], 1_000);
    marks.mark("c", [], 1_000);
    coalescer.detach(new Set(["b"]), new Set(["slots"]));
    expect([marks.passes("a", 0), marks.passes("b", 0), marks.passes("c", 0)]).toEqual([false, false, true]);
    marks.unmark("c");
    expect(marks.passes("c", 0)).toBe(false);
  });

  it("keep a bounded number of keys, forgetting the oldest first", () => {
    const marks = new PassMarks();
    for (let i = 0; i <= 10_000; i++) marks.mark(`k${i}`, [], 1_000);
    expect(marks.passes("k0", 0)).toBe(false);
    expect(marks.passes("k1", 0)).toBe(true);
    expect(marks.passes("k10000", 0)).toBe(true);
  });
});
