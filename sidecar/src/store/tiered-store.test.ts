import { describe, expect, it } from "vitest";
import { FlakyStore, manualClock } from "../../test/store-fakes.js";
import { MemoryStore } from "./memory-store.js";
import { TieredStore } from "./tiered-store.js";

const v = (text: string) => Buffer.from(text);

function setup(maxEntryAgeMs = 1_000) {
  const clock = manualClock();
  const l2 = new FlakyStore(clock.now);
  const l1 = new MemoryStore({ maxBytes: 1 << 20, now: clock.now });
  const store = new TieredStore({ l1, l2, maxEntryAgeMs, now: clock.now });
  return { clock, l1, l2, store };
}

describe("tiered store", () => {
  describe("reads", () => {
    it("serves a fresh L1 copy without asking L2", async () => {
      const { l2, store } = setup();
      await store.set("k", v("1"), { ttlMs: 60_000, tags: [] });
      const calls = l2.calls;
      expect(await store.get("k")).toEqual(v("1"));
      expect(l2.calls).toBe(calls);
    });

    it("asks L2 once the L1 copy is older than maxEntryAge, and refreshes L1 from the answer", async () => {
      const { clock, l2, store } = setup();
      await store.set("k", v("1"), { ttlMs: 60_000, tags: ["t"] });
      await l2.inner.set("k", v("2"), { ttlMs: 60_000, tags: ["t"] });
      clock.advance(999);
      expect(await store.get("k")).toEqual(v("1"));
      clock.advance(1);
      expect(await store.get("k")).toEqual(v("2"));
      const calls = l2.calls;
      expect(await store.get("k")).toEqual(v("2"));
      expect(l2.calls).toBe(calls);
    });

    it("asks L2 despite a young L1 copy when the read asks for the shared tier, and refreshes L1", async () => {
      const { l2, store } = setup();
      await store.set("k", v("1"), { ttlMs: 60_000, tags: ["t"] });
      await l2.inner.set("k", v("2"), { ttlMs: 60_000, tags: ["t"] });
      expect(await store.get("k", { shared: true })).toEqual(v("2"));
      expect(await store.get("k")).toEqual(v("2"));
    });

    it("drops the L1 copy when L2 no longer has the entry (another pod invalidated it)", async () => {
      const { clock, l1, l2, store } = setup();
      await store.set("k", v("1"), { ttlMs: 60_000, tags: ["t"] });
      await l2.inner.deleteTags(["t"]);
      clock.advance(1_000);
      expect(await store.get("k")).toBeUndefined();
      expect(l1.entries).toBe(0);
    });

    it("hands back the very copy L1 keeps of a value that is a view into a larger L2 buffer", async () => {
      const { l1, l2, store } = setup();
      const reply = Buffer.alloc(4_096, 1); // a Redis reply's read buffer
      l2.getEntry = async () => ({ value: reply.subarray(10, 30), ttlMs: 60_000, tags: [] });
      const got = await store.get("k");
      expect(got?.equals(reply.subarray(10, 30))).toBe(true);
      expect(got).toBe(l1.lookup("k")?.value);
      expect(got?.buffer.byteLength).toBe(20);
    });

    it("fills L1 from L2 with L2's remaining TTL and tags", async () => {
      const { clock, l1, l2, store } = setup();
      await l2.inner.set("k", v("1"), { ttlMs: 5_000, tags: ["a", "b"] });
      clock.advance(2_000);
      expect(await store.get("k")).toEqual(v("1"));
      expect(l1.lookup("k")).toMatchObject({ tags: ["a", "b"], expiresAt: clock.now() + 3_000 });
      expect(await store.deleteTags(["b"])).toBe(1);
      expect(l1.entries).toBe(0);
    });

    it("always asks L2 when maxEntryAge is 0", async () => {
      const { l2, store } = setup(0);
      await store.set("k", v("1"), { ttlMs: 60_000, tags: [] });
      const calls = l2.calls;
      await store.get("k");
      await store.get("k");
      expect(l2.calls).toBe(calls + 2);
    });
  });

  describe("when L2 fails", () => {
    it("still serves an unexpired L1 copy of any age (fail open)", async () => {
      const { clock, l2, store } = setup();
      await store.set("k", v("1"), { ttlMs: 60_000, tags: [] });
      l2.down();
      clock.advance(30_000);
      expect(await store.get("k")).toEqual(v("1"));
    });

    it("rejects with L2's error when L1 has no copy", async () => {
      const { l2, store } = setup();
      l2.down();
      await expect(store.get("k")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_TIMEOUT" });
    });

    it("keeps a write in L1 and reports the L2 failure", async () => {
      const { l2, store } = setup();
      l2.down();
      await expect(store.set("k", v("1"), { ttlMs: 60_000, tags: [] })).rejects.toMatchObject({
        code: "APICACHE_ERR_STORE_TIMEOUT",
      });
      expect(await store.get("k")).toEqual(v("1"));
    });

    it("drops L1 on a local invalidation even though L2 could not be reached", async () => {
      const { l2, store } = setup();
      await store.set("k", v("1"), { ttlMs: 60_000, tags: ["t"] });
      l2.down();
      await expect(store.deleteTags(["t"])).rejects.toBeDefined();
      await expect(store.get("k")).rejects.toBeDefined();
    });
  });

  describe("local invalidation", () => {
    it("drops L1 and L2 and counts what L2 removed", async () => {
      const { l1, l2, store } = setup();
      await store.set("a", v("1"), { ttlMs: 60_000, tags: ["t"] });
      await store.set("b", v("2"), { ttlMs: 60_000, tags: [] });
      expect(await store.deleteTags(["t"])).toBe(1);
      expect(await store.delete(["b"])).toBe(1);
      expect(l1.entries).toBe(0);
      expect(l2.inner.entries).toBe(0);
    });

    it("does not let an L2 read that straddles an invalidation refill L1", async () => {
      const { clock, l1, l2, store } = setup();
      await l2.inner.set("k", v("old"), { ttlMs: 60_000, tags: ["t"] });
      clock.advance(1);
      const read = store.get("k");
      await store.deleteTags(["t"]);
      expect(await read).toEqual(v("old"));
      expect(l1.entries).toBe(0);
    });
  });

  describe("fenced writes", () => {
    it("takes L2's fence, and drops the L1 copy when L2 refuses the write", async () => {
      const { l1, l2, store } = setup();
      const fence = await store.fence(["slots"]);
      await l2.inner.deleteTags(["slots"]); // another pod's write, seen only by the shared tier
      expect(await store.set("k", v("pre-write"), { ttlMs: 60_000, tags: ["slots"], fence })).toBe(false);
      expect(l1.lookup("k")).toBeUndefined();
      expect(await store.get("k")).toBeUndefined();
    });

    it("keeps both copies when the fence holds", async () => {
      const { l1, store } = setup();
      const fence = await store.fence(["slots"]);
      expect(await store.set("k", v("fresh"), { ttlMs: 60_000, tags: ["slots"], fence })).toBe(true);
      expect(l1.lookup("k")?.value).toEqual(v("fresh"));
    });

    it("rejects the fence with L2's error when L2 is down (the fill then stores unfenced)", async () => {
      const { l2, store } = setup();
      l2.down();
      await expect(store.fence(["slots"])).rejects.toThrow(/did not answer/);
    });
  });

  it("reports L1 size and L2 health through stats and health", async () => {
    const { l2, store } = setup();
    await store.set("k", v("1"), { ttlMs: 60_000, tags: [] });
    expect(store.stats().l1?.entries).toBe(1);
    expect(store.health()).toEqual({ ok: true });
    l2.down();
    expect(store.health()).toEqual({ ok: false, detail: "fake-redis: down" });
  });
});
