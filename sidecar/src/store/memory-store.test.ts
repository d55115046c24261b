import { describe, expect, it, vi } from "vitest";
import { StoreError } from "./errors.js";
import {
  ENTRY_OVERHEAD_BYTES,
  entryBytes,
  MemoryStore,
  TAG_MEMBERSHIP_OVERHEAD_BYTES,
  TAG_SET_OVERHEAD_BYTES,
} from "./memory-store.js";

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const value = (size: number, fill = 1) => Buffer.alloc(size, fill);
const opts = (ttlMs = 60_000, tags: string[] = []) => ({ ttlMs, tags });

describe("memory store", () => {
  describe("byte accounting", () => {
    it("counts key, value, tag bookkeeping and a fixed overhead per entry", () => {
      expect(entryBytes("key", value(10), [])).toBe(ENTRY_OVERHEAD_BYTES + 3 + 10);
      expect(entryBytes("key", value(10), ["ab"])).toBe(
        ENTRY_OVERHEAD_BYTES + 3 + 10 + 2 + 3 + TAG_MEMBERSHIP_OVERHEAD_BYTES,
      );
      expect(entryBytes("ü", value(0), [])).toBe(ENTRY_OVERHEAD_BYTES + 2);
    });

    it("tracks bytes and entries through set, overwrite and delete", () => {
      const store = new MemoryStore({ maxBytes: 10_000 });
      store.put("a", value(100), opts(60_000, ["t"]));
      store.put("b", value(50), opts());
      expect(store.entries).toBe(2);
      expect(store.bytes).toBe(
        entryBytes("a", value(100), ["t"]) + entryBytes("b", value(50), []) + TAG_SET_OVERHEAD_BYTES,
      );
      store.put("a", value(10), opts());
      expect(store.bytes).toBe(entryBytes("a", value(10), []) + entryBytes("b", value(50), []));
      store.remove(["a", "b"]);
      expect(store.bytes).toBe(0);
      expect(store.entries).toBe(0);
      expect(store.stats()).toEqual({ l1: { bytes: 0, entries: 0 } });
    });
  });

  describe("counting the tag index", () => {
    it("counts a tag's set once, while it holds a key", () => {
      const store = new MemoryStore({ maxBytes: 10_000 });
      store.put("a", value(10), opts(60_000, ["t"]));
      store.put("b", value(10), opts(60_000, ["t", "u"]));
      const a = entryBytes("a", value(10), ["t"]);
      const b = entryBytes("b", value(10), ["t", "u"]);
      expect(store.bytes).toBe(a + b + 2 * TAG_SET_OVERHEAD_BYTES);
      store.remove(["b"]);
      expect(store.bytes).toBe(a + TAG_SET_OVERHEAD_BYTES);
      store.remove(["a"]);
      expect(store.bytes).toBe(0);
    });

    it("evicts the least recently used entry when a new tag's set would exceed the bound", () => {
      const k0 = entryBytes("k0", value(100), ["t0"]);
      const k1 = entryBytes("k1", value(100), ["t1"]);
      const store = new MemoryStore({ maxBytes: k0 + k1 + 2 * TAG_SET_OVERHEAD_BYTES - 1 });
      store.put("k0", value(100), opts(60_000, ["t0"]));
      store.put("k1", value(100), opts(60_000, ["t1"]));
      expect(store.lookup("k0")).toBeUndefined();
      expect(store.lookup("k1")).toBeDefined();
      expect([store.bytes, store.tagCount]).toEqual([k1 + TAG_SET_OVERHEAD_BYTES, 1]);
    });

    it("stores nothing when the entry with a set for each of its tags exceeds the bound", () => {
      const size = entryBytes("k", value(100), ["a", "b"]);
      const store = new MemoryStore({ maxBytes: size + 2 * TAG_SET_OVERHEAD_BYTES - 1 });
      store.put("k", value(100), opts(60_000, ["a", "b"]));
      expect([store.entries, store.bytes, store.tagCount]).toEqual([0, 0, 0]);
    });
  });

  describe("when a value is a slice of node's shared buffer pool", () => {
    it("keeps a copy with a backing store of its own, so it pins no pool slab", () => {
      const pooled = Buffer.from("a small body, as Buffer.concat makes for a short response");
      expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length); // node's 8 KiB pool
      const store = new MemoryStore({ maxBytes: 10_000 });
      store.put("k", pooled, opts());
      const kept = store.lookup("k")?.value;
      expect(kept?.equals(pooled)).toBe(true);
      expect(kept?.buffer.byteLength).toBe(pooled.length);
    });
  });

  describe("when a value is a view into a larger buffer", () => {
    it("keeps an exact-size copy, so the entry pins no more than it counts", () => {
      const reply = Buffer.alloc(64 * 1024, 7);
      const view = reply.subarray(100, 16_484);
      const store = new MemoryStore({ maxBytes: 1_000_000 });
      store.put("k", view, opts());
      const kept = store.lookup("k")?.value;
      expect(kept?.equals(view)).toBe(true);
      expect(kept?.buffer.byteLength).toBe(view.length);
    });

    it("keeps a value that owns its whole backing store as it is", () => {
      const own = Buffer.allocUnsafeSlow(300).fill(1);
      const store = new MemoryStore({ maxBytes: 10_000 });
      store.put("k", own, opts());
      expect(store.lookup("k")?.value).toBe(own);
    });
  });

  describe("when the byte bound is exceeded", () => {
    const size = entryBytes("k0", value(100), []);

    it("evicts least recently used entries first and never exceeds the bound", () => {
      const store = new MemoryStore({ maxBytes: size * 3 });
      for (const key of ["k0", "k1", "k2"]) store.put(key, value(100), opts());
      store.lookup("k0");
      store.put("k3", value(100), opts());
      expect(store.lookup("k1")).toBeUndefined();
      expect(store.lookup("k0")).toBeDefined();
      expect(store.lookup("k2")).toBeDefined();
      expect(store.lookup("k3")).toBeDefined();
      expect(store.bytes).toBeLessThanOrEqual(size * 3);
    });

    it("evicts as many entries as a large value needs", () => {
      const store = new MemoryStore({ maxBytes: size * 3 });
      for (const key of ["k0", "k1", "k2"]) store.put(key, value(100), opts());
      store.put("big", value(size * 2), opts());
      expect(store.entries).toBe(1);
      expect(store.lookup("big")).toBeDefined();
    });

    it("does not store a value larger than the whole bound, and drops the key's older value", () => {
      const store = new MemoryStore({ maxBytes: 1_000 });
      store.put("k", value(10), opts());
      store.put("k", value(2_000), opts());
      expect(store.lookup("k")).toBeUndefined();
      expect(store.bytes).toBe(0);
    });

    it("removes evicted keys from the tag index", () => {
      const k0 = entryBytes("k0", value(100), ["t", "only-k0"]);
      const tagSets = 2 * TAG_SET_OVERHEAD_BYTES; // "t" and "only-k0"
      const store = new MemoryStore({ maxBytes: k0 + entryBytes("k1", value(100), ["t"]) + tagSets });
      store.put("k0", value(100), opts(60_000, ["t", "only-k0"]));
      store.put("k1", value(100), opts(60_000, ["t"]));
      store.put("k2", value(100), opts(60_000, ["t"]));
      expect(store.lookup("k0")).toBeUndefined();
      expect(store.tagCount).toBe(1);
      expect(store.removeTags(["only-k0"])).toBe(0);
      expect(store.removeTags(["t"])).toBe(2);
      expect(store.tagCount).toBe(0);
    });

    it("keeps the tag index in step when an overwrite changes the tags and an eviction follows", () => {
      const size = entryBytes("k0", value(100), ["t", "only-k0"]);
      const store = new MemoryStore({ maxBytes: size * 2 + 2 * TAG_SET_OVERHEAD_BYTES });
      store.put("k0", value(100), opts(60_000, ["t", "only-k0"]));
      store.put("k1", value(100), opts(60_000, ["t", "only-k0"]));
      store.put("k1", value(100), opts(60_000, ["t", "u"]));
      store.put("k2", value(100), opts(60_000, ["t", "u"]));
      expect(store.lookup("k0")).toBeUndefined();
      expect(store.removeTags(["only-k0"])).toBe(0);
      expect(store.removeTags(["t"])).toBe(2);
      expect(store.tagCount).toBe(0);
    });
  });

  describe("expiry", () => {
    it("serves an entry until its TTL passes on the injected clock, then forgets it", () => {
      const time = clock();
      const store = new MemoryStore({ maxBytes: 10_000, now: time.now });
      store.put("k", value(1), opts(100, ["t"]));
      time.advance(99);
      expect(store.lookup("k")).toBeDefined();
      time.advance(1);
      expect(store.lookup("k")).toBeUndefined();
      expect(store.entries).toBe(0);
      expect(store.tagCount).toBe(0);
      expect(store.bytes).toBe(0);
    });

    it("counts only live entries when removing, and still drops an expired one and its tags", () => {
      const time = clock();
      const store = new MemoryStore({ maxBytes: 10_000, now: time.now });
      store.put("gone", value(1), opts(100, ["t"]));
      store.put("live", value(1), opts(1_000));
      time.advance(100);
      expect(store.remove(["gone", "live", "absent"])).toBe(1);
      expect([store.entries, store.tagCount, store.bytes]).toEqual([0, 0, 0]);
    });

    it("stores nothing for a non-positive TTL", () => {
      const store = new MemoryStore({ maxBytes: 10_000 });
      store.put("k", value(1), opts(0));
      store.put("j", value(1), opts(-5));
      expect(store.entries).toBe(0);
    });

    it("serves an entry with a sub-millisecond TTL until its expiresAt", () => {
      const time = clock();
      const store = new MemoryStore({ maxBytes: 10_000, now: time.now });
      store.put("k", value(1), opts(0.4));
      expect(store.lookup("k")?.expiresAt).toBe(1_000.4);
      time.advance(0.3);
      expect(store.lookup("k")).toBeDefined();
      time.advance(0.1);
      expect(store.lookup("k")).toBeUndefined();
    });

    it("expires an entry on a fractional clock, also one put at 0.5 ms", () => {
      const time = clock(0.5);
      const store = new MemoryStore({ maxBytes: 10_000, now: time.now });
      store.put("k", value(1), opts(100, ["t"]));
      time.advance(99.75);
      expect(store.lookup("k")).toBeDefined();
      time.advance(0.25);
      expect(store.lookup("k")).toBeUndefined();
      expect([store.entries, store.tagCount, store.bytes]).toEqual([0, 0, 0]);
    });

    it("reports the remaining TTL and the tags through getEntry", async () => {
      const time = clock();
      const store = new MemoryStore({ maxBytes: 10_000, now: time.now });
      await store.set("k", value(1), opts(1_000, ["a", "a", "b"]));
      time.advance(400);
      expect(await store.getEntry("k")).toEqual({ value: value(1), ttlMs: 600, tags: ["a", "b"] });
    });
  });

  describe("tag index", () => {
    it("replaces an entry's tags on overwrite", () => {
      const store = new MemoryStore({ maxBytes: 10_000 });
      store.put("k", value(1), opts(60_000, ["old"]));
      store.put("k", value(2), opts(60_000, ["new"]));
      expect(store.removeTags(["old"])).toBe(0);
      expect(store.lookup("k")?.value).toEqual(value(2));
      expect(store.removeTags(["new"])).toBe(1);
    });

    it("drops a tag's set once its last key is gone", () => {
      const store = new MemoryStore({ maxBytes: 10_000 });
      store.put("a", value(1), opts(60_000, ["t", "u"]));
      store.put("b", value(1), opts(60_000, ["t"]));
      store.remove(["a"]);
      expect(store.tagCount).toBe(1);
      store.remove(["b"]);
      expect(store.tagCount).toBe(0);
    });
  });

  describe("when the last entry leaves a store that once held many", () => {
    const peak = 10_000;
    const ways: [string, (store: MemoryStore, advance: (ms: number) => void) => void][] = [
      ["removeTags", (store) => expect(store.removeTags(["t"])).toBe(1)],
      ["remove", (store) => expect(store.remove(["last"])).toBe(1)],
      [
        "an expired lookup",
        (store, advance) => {
          advance(60_000);
          expect(store.lookup("last")).toBeUndefined();
        },
      ],
      ["an overwrite with no TTL", (store) => store.put("last", value(1), opts(0))],
    ];

    // lru-cache's delete of its only entry runs its clear, which refills each per-slot array over its
    // longest-ever length: O(peak) work for one delete (review s25 L2). Counted as array slots filled.
    it.each(ways)("fills no per-slot array over the peak on %s", (_, leave) => {
      const time = clock();
      const store = new MemoryStore({ maxBytes: 2 ** 40, now: time.now });
      for (let i = 0; i < peak; i++) store.put(`k${i}`, value(1), opts());
      store.put("last", value(1), opts(60_000, ["t"]));
      store.remove(Array.from({ length: peak }, (_, i) => `k${i}`));
      const fill = vi.spyOn(Array.prototype, "fill");
      try {
        leave(store, time.advance);
        store.put("next", value(1), opts(60_000, ["t"]));
        const filled = (fill.mock.contexts as unknown[][]).reduce((slots, array) => slots + array.length, 0);
        expect(filled).toBeLessThan(100);
      } finally {
        fill.mockRestore();
      }
      expect(store.lookup("last")).toBeUndefined();
      expect(store.lookup("next")).toBeDefined();
      expect([store.entries, store.tagCount, store.bytes]).toEqual([
        1,
        1,
        entryBytes("next", value(1), ["t"]) + TAG_SET_OVERHEAD_BYTES,
      ]);
      expect(store.removeTags(["t"])).toBe(1);
    });

    it("forgets every entry and tag on clear, and stores again", () => {
      const store = new MemoryStore({ maxBytes: 2 ** 40 });
      for (let i = 0; i < 1_000; i++) store.put(`k${i}`, value(1), opts(60_000, ["t"]));
      store.clear();
      expect([store.entries, store.tagCount, store.bytes]).toEqual([0, 0, 0]);
      expect(store.removeTags(["t"])).toBe(0);
      store.put("k1", value(1), opts(60_000, ["t"]));
      expect(store.removeTags(["t"])).toBe(1);
    });
  });

  describe("after close", () => {
    it("rejects operations with APICACHE_ERR_STORE_CLOSED and reports unhealthy", async () => {
      const store = new MemoryStore({ maxBytes: 10_000 });
      await store.close();
      await expect(store.get("k")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_CLOSED" });
      await expect(store.deleteTags(["t"])).rejects.toBeInstanceOf(StoreError);
      expect(store.health()).toEqual({ ok: false, detail: "closed" });
    });
  });
});
