import { describe, expect, it } from "vitest";
import { manualClock } from "../../test/store-fakes.js";
import { PendingInvalidations } from "./pending-invalidations.js";

function queue(maxItems = 10) {
  const clock = manualClock(1_000_000);
  return { clock, pending: new PendingInvalidations({ maxItems, now: clock.now, skewMs: 1_000 }) };
}

const entry = (tags: string[], writtenAt = 2_000_000) => ({ tags, writtenAt });

describe("pending invalidations", () => {
  describe("when nothing is pending", () => {
    it("masks no entry", () => {
      const { pending } = queue();
      expect(pending.masks("k", entry(["t"]), pending.mark())).toBe(false);
    });
  });

  describe("when tags and keys are pending", () => {
    it.each([
      ["an entry carrying a pending tag", "other", ["x", "slots"], true],
      ["an entry under a pending key", "GET /a", [], true],
      ["an unrelated entry", "GET /b", ["dashboard"], false],
    ])("treats %s as a miss: %s", (_name, key, tags, masked) => {
      const { pending } = queue();
      pending.add(["slots"], ["GET /a"]);
      expect(pending.masks(key, entry(tags), pending.mark())).toBe(masked);
    });

    it("de-duplicates what is added twice", () => {
      const { pending } = queue();
      pending.add(["a", "b"], ["k"]);
      pending.add(["a"], ["k"]);
      expect(pending.size).toBe(3);
    });

    it("hands out batches, tags first, and stops masking what was settled", () => {
      const { pending } = queue();
      pending.add(["a", "b"], ["k"]);
      const batch = pending.batch(2);
      expect(batch).toEqual({ tags: ["a", "b"], keys: [] });
      expect(pending.settle(batch)).toBe(false);
      expect(pending.masks("x", entry(["a"]), pending.mark())).toBe(false);
      expect(pending.masks("k", entry([]), pending.mark())).toBe(true);
      expect(pending.settle(pending.batch(2))).toBe(true);
    });
  });

  describe("when the queue changes while a read is in flight", () => {
    it("masks what that read returns, even an unrelated entry", () => {
      const { pending } = queue();
      pending.add(["a"], []);
      const mark = pending.mark();
      pending.settle(pending.batch(10));
      expect(pending.masks("x", entry(["a"]), mark)).toBe(true);
      expect(pending.masks("x", entry(["a"]), pending.mark())).toBe(false);
    });
  });

  describe("when the queue overflows", () => {
    it("drops what does not fit, bypasses reads until it drains, then masks entries older than the drop", () => {
      const { pending, clock } = queue(2);
      expect(pending.add(["a", "b", "c"], ["k"])).toBe(2);
      expect(pending.dropped).toBe(2);
      expect(pending.bypassingReads).toBe(true);
      expect(pending.masks("x", entry([]), pending.mark())).toBe(true);

      clock.advance(5_000);
      expect(pending.settle(pending.batch(10))).toBe(true);
      expect(pending.bypassingReads).toBe(false);
      // Written before the dropped invalidation (plus clock skew): suspect for good.
      expect(pending.masks("x", entry([], 1_000_500), pending.mark())).toBe(true);
      expect(pending.masks("x", { tags: [] }, pending.mark())).toBe(true);
      // Written after it: trusted again.
      expect(pending.masks("x", entry([], 1_002_000), pending.mark())).toBe(false);
    });
  });
});
