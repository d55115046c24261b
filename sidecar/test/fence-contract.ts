import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CacheStore } from "../src/store/types.js";

/**
 * The fence part of the store contract (see CacheStore.fence): a fill takes a fence for its tags
 * before it reads the upstream and stores only if none of them was invalidated since — by this
 * store or, for shared backends, by any store on the same prefix (another pod).
 */
const TTL = 60_000;
const v = (text: string): Buffer => Buffer.from(text);

export function describeFences(
  create: (keyPrefix?: string) => Promise<CacheStore>,
  options: { readonly sharedBackend: boolean },
): void {
  describe("fences", () => {
    it("stores a fenced value when none of its tags was invalidated since the fence", async () => {
      const store = await create();
      const fence = await store.fence(["a", "b"]);
      expect(await store.set("k", v("fresh"), { ttlMs: TTL, tags: ["a", "b"], fence })).toBe(true);
      expect(await store.get("k")).toEqual(v("fresh"));
      expect(await store.deleteTags(["b"])).toBe(1);
    });

    it("stores nothing, and says so, when one of its tags was invalidated since the fence", async () => {
      const store = await create();
      await store.set("k", v("before"), { ttlMs: TTL, tags: ["a"] });
      const fence = await store.fence(["a", "b"]);
      await store.deleteTags(["b"]);
      expect(
        await store.set("k", v("fetched before the write"), { ttlMs: TTL, tags: ["a", "b"], fence }),
      ).toBe(false);
      expect(await store.get("k")).toEqual(v("before"));
      await store.deleteTags(["a"]);
      expect(await store.get("k")).toBeUndefined();
    });

    it("is not disturbed by invalidations of other tags, nor by key deletes", async () => {
      const store = await create();
      const fence = await store.fence(["a"]);
      await store.deleteTags(["other"]);
      await store.delete(["k"]);
      expect(await store.set("k", v("fresh"), { ttlMs: TTL, tags: ["a"], fence })).toBe(true);
      expect(await store.get("k")).toEqual(v("fresh"));
    });

    it("holds when the invalidation came before the fence", async () => {
      const store = await create();
      await store.deleteTags(["a"]);
      const fence = await store.fence(["a"]);
      expect(await store.set("k", v("fresh"), { ttlMs: TTL, tags: ["a"], fence })).toBe(true);
    });

    it("refuses after any one of several invalidations, whichever tag order the fence was taken in", async () => {
      const store = await create();
      const fence = await store.fence(["c", "a", "b", "a"]);
      await store.deleteTags(["x", "c"]);
      expect(await store.set("k", v("old"), { ttlMs: TTL, tags: ["b", "a", "c"], fence })).toBe(false);
      expect(await store.get("k")).toBeUndefined();
    });

    it("fences a value without tags trivially", async () => {
      const store = await create();
      const fence = await store.fence([]);
      await store.deleteTags(["a"]);
      expect(await store.set("k", v("v"), { ttlMs: TTL, tags: [], fence })).toBe(true);
      expect(await store.get("k")).toEqual(v("v"));
    });

    // Only stores with a shared backend (Redis) have this property: it is what fences are for.
    const itShared = options.sharedBackend ? it : () => undefined;
    itShared(
      "refuses a fill another store on the same prefix invalidated meanwhile (another pod's write)",
      async () => {
        const prefix = `fence-${randomUUID()}`;
        const filling = await create(prefix);
        const writing = await create(prefix);
        const fence = await filling.fence(["slots"]);
        await writing.deleteTags(["slots"]);
        expect(await filling.set("k", v("pre-write"), { ttlMs: TTL, tags: ["slots"], fence })).toBe(false);
        expect(await filling.get("k")).toBeUndefined();
        expect(await writing.get("k")).toBeUndefined();
      },
    );

    itShared("is not disturbed by the same tag invalidated under another prefix", async () => {
      const suffix = randomUUID();
      const filling = await create(`fence-a-${suffix}`);
      const other = await create(`fence-b-${suffix}`);
      const fence = await filling.fence(["slots"]);
      await other.deleteTags(["slots"]);
      expect(await filling.set("k", v("fresh"), { ttlMs: TTL, tags: ["slots"], fence })).toBe(true);
    });
  });
}
