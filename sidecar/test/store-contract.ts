import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { StoreError } from "../src/store/errors.js";
import type { CacheStore, EntryStore } from "../src/store/types.js";
import { describeFences } from "./fence-contract.js";

/**
 * The one contract every CacheStore implementation passes (memory, Redis standalone, Redis Cluster,
 * tiered). `makeStore` builds a store over the implementation's backend for a key prefix; two
 * stores made with the same prefix share data, stores with different prefixes must not.
 */
export type MakeStore = (options: { readonly keyPrefix: string }) => Promise<CacheStore> | CacheStore;

export interface ContractOptions {
  /** Whether two stores made with the same prefix share data (false for pure in-process stores). */
  readonly sharedBackend: boolean;
}

const TTL = 60_000;
const bytes = (text: string): Buffer => Buffer.from(text);

async function waitUntil(
  description: string,
  probe: () => Promise<boolean>,
  timeoutMs = 5_000,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function hasEntries(store: CacheStore): store is EntryStore {
  return typeof (store as Partial<EntryStore>).getEntry === "function";
}

export function describeStoreContract(name: string, makeStore: MakeStore, options: ContractOptions): void {
  describe(`${name} store contract`, () => {
    const open: CacheStore[] = [];
    const create = async (keyPrefix = `contract-${randomUUID()}`): Promise<CacheStore> => {
      const store = await makeStore({ keyPrefix });
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });

    describe("get and set", () => {
      it("resolves undefined for a key never set", async () => {
        const store = await create();
        expect(await store.get("missing")).toBeUndefined();
      });

      it("returns the bytes that were set", async () => {
        const store = await create();
        await store.set("k", bytes("hello"), { ttlMs: TTL, tags: [] });
        expect(await store.get("k")).toEqual(bytes("hello"));
      });

      it("replaces the value on overwrite", async () => {
        const store = await create();
        await store.set("k", bytes("one"), { ttlMs: TTL, tags: ["t"] });
        await store.set("k", bytes("two"), { ttlMs: TTL, tags: ["t"] });
        expect(await store.get("k")).toEqual(bytes("two"));
      });

      it("is binary-safe: every byte value and the empty value round-trip", async () => {
        const store = await create();
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        await store.set("all-bytes", all, { ttlMs: TTL, tags: [] });
        await store.set("empty", Buffer.alloc(0), { ttlMs: TTL, tags: [] });
        expect(await store.get("all-bytes")).toEqual(all);
        expect(await store.get("empty")).toEqual(Buffer.alloc(0));
      });

      it("stores large values (1 MiB) intact", async () => {
        const store = await create();
        const large = randomBytes(1024 * 1024);
        await store.set("large", large, { ttlMs: TTL, tags: ["big"] });
        expect((await store.get("large"))?.equals(large)).toBe(true);
      });

      it("accepts keys and tags with spaces, unicode, colons, pipes and braces", async () => {
        const store = await create();
        const key = "GET example.test /a b/ünï/{x}|y:z?q=1";
        await store.set(key, bytes("v"), { ttlMs: TTL, tags: ["t:{1}|ü"] });
        expect(await store.get(key)).toEqual(bytes("v"));
        expect(await store.deleteTags(["t:{1}|ü"])).toBe(1);
        expect(await store.get(key)).toBeUndefined();
      });

      it("keeps every value when many sets run concurrently", async () => {
        const store = await create();
        const keys = Array.from({ length: 200 }, (_, i) => `concurrent-${i}`);
        await Promise.all(keys.map((key) => store.set(key, bytes(key), { ttlMs: TTL, tags: ["batch"] })));
        const values = await Promise.all(keys.map((key) => store.get(key)));
        expect(values).toEqual(keys.map(bytes));
        expect(await store.deleteTags(["batch"])).toBe(200);
      });

      it("ends concurrent sets of one key with one of the written values", async () => {
        const store = await create();
        const written = Array.from({ length: 20 }, (_, i) => bytes(`v${i}`));
        await Promise.all(written.map((value) => store.set("same", value, { ttlMs: TTL, tags: [] })));
        const final = await store.get("same");
        expect(written.some((value) => final?.equals(value))).toBe(true);
      });
    });

    describe("expiry", () => {
      it("stops returning an entry once its TTL has passed", async () => {
        const store = await create();
        await store.set("short", bytes("v"), { ttlMs: 150, tags: ["t"] });
        await store.set("long", bytes("v"), { ttlMs: TTL, tags: ["t"] });
        const setAt = Date.now();
        expect(await store.get("short")).toEqual(bytes("v"));
        await waitUntil("the short entry to expire", async () => (await store.get("short")) === undefined);
        expect(Date.now() - setAt).toBeGreaterThanOrEqual(100);
        expect(await store.get("long")).toEqual(bytes("v"));
      });

      it("does not count an expired entry as deleted", async () => {
        const store = await create();
        await store.set("short", bytes("v"), { ttlMs: 100, tags: ["t"] });
        await waitUntil("the entry to expire", async () => (await store.get("short")) === undefined);
        expect(await store.deleteTags(["t"])).toBe(0);
        expect(await store.delete(["short"])).toBe(0);
      });

      it("restarts the TTL on overwrite", async () => {
        const store = await create();
        await store.set("k", bytes("one"), { ttlMs: 150, tags: [] });
        await store.set("k", bytes("two"), { ttlMs: TTL, tags: [] });
        await store.set("witness", bytes("w"), { ttlMs: 150, tags: [] });
        await waitUntil(
          "the witness (same short TTL) to expire",
          async () => (await store.get("witness")) === undefined,
        );
        expect(await store.get("k")).toEqual(bytes("two"));
      });
    });

    describe("delete", () => {
      it("removes the keys and resolves to how many existed", async () => {
        const store = await create();
        await store.set("a", bytes("1"), { ttlMs: TTL, tags: [] });
        await store.set("b", bytes("2"), { ttlMs: TTL, tags: [] });
        expect(await store.delete(["a", "b", "never-set"])).toBe(2);
        expect(await store.get("a")).toBeUndefined();
        expect(await store.get("b")).toBeUndefined();
        expect(await store.delete(["a"])).toBe(0);
        expect(await store.delete([])).toBe(0);
      });
    });

    describe("deleteTags", () => {
      it("removes exactly the entries recorded under the tag", async () => {
        const store = await create();
        await store.set("tagged-a", bytes("1"), { ttlMs: TTL, tags: ["a"] });
        await store.set("tagged-ab", bytes("2"), { ttlMs: TTL, tags: ["ab"] });
        await store.set("tagged-a-colon", bytes("3"), { ttlMs: TTL, tags: ["a:1"] });
        await store.set("tagged-cap", bytes("4"), { ttlMs: TTL, tags: ["A"] });
        await store.set("untagged", bytes("5"), { ttlMs: TTL, tags: [] });
        expect(await store.deleteTags(["a"])).toBe(1);
        expect(await store.get("tagged-a")).toBeUndefined();
        expect(await store.get("tagged-ab")).toEqual(bytes("2"));
        expect(await store.get("tagged-a-colon")).toEqual(bytes("3"));
        expect(await store.get("tagged-cap")).toEqual(bytes("4"));
        expect(await store.get("untagged")).toEqual(bytes("5"));
      });

      it("removes an entry with several tags through any one of them, and counts it once", async () => {
        const store = await create();
        await store.set("multi", bytes("m"), { ttlMs: TTL, tags: ["x", "y", "z"] });
        await store.set("only-y", bytes("y"), { ttlMs: TTL, tags: ["y"] });
        expect(await store.deleteTags(["x", "y"])).toBe(2);
        expect(await store.get("multi")).toBeUndefined();
        expect(await store.get("only-y")).toBeUndefined();
        expect(await store.deleteTags(["z"])).toBe(0);
      });

      it("removes a deleted entry from its other tags' view", async () => {
        const store = await create();
        await store.set("both", bytes("b"), { ttlMs: TTL, tags: ["first", "second"] });
        await store.set("second-only", bytes("s"), { ttlMs: TTL, tags: ["second"] });
        expect(await store.deleteTags(["first"])).toBe(1);
        expect(await store.deleteTags(["second"])).toBe(1);
        expect(await store.get("second-only")).toBeUndefined();
      });

      it("counts nothing for unknown tags and an empty list", async () => {
        const store = await create();
        await store.set("k", bytes("v"), { ttlMs: TTL, tags: ["known"] });
        expect(await store.deleteTags(["unknown"])).toBe(0);
        expect(await store.deleteTags([])).toBe(0);
        expect(await store.get("k")).toEqual(bytes("v"));
      });

      it("tags a key again after its tag was deleted", async () => {
        const store = await create();
        await store.set("k", bytes("1"), { ttlMs: TTL, tags: ["t"] });
        expect(await store.deleteTags(["t"])).toBe(1);
        await store.set("k", bytes("2"), { ttlMs: TTL, tags: ["t"] });
        expect(await store.get("k")).toEqual(bytes("2"));
        expect(await store.deleteTags(["t"])).toBe(1);
        expect(await store.get("k")).toBeUndefined();
      });

      it("does not count a key removed by delete", async () => {
        const store = await create();
        await store.set("k", bytes("1"), { ttlMs: TTL, tags: ["t"] });
        await store.set("other", bytes("2"), { ttlMs: TTL, tags: ["t"] });
        expect(await store.delete(["k"])).toBe(1);
        expect(await store.deleteTags(["t"])).toBe(1);
      });

      it("serves an entry to reads that name all of its tags, some, none or others", async () => {
        const store = await create();
        await store.set("k", bytes("v"), { ttlMs: TTL, tags: ["a", "b"] });
        for (const tags of [["a", "b"], ["b"], [], ["other"]]) {
          expect(await store.get("k", { tags })).toEqual(bytes("v"));
        }
        expect(await store.get("k")).toEqual(bytes("v"));
      });

      it("never returns an invalidated entry, whichever tags the read names", async () => {
        const store = await create();
        await store.set("k", bytes("v"), { ttlMs: TTL, tags: ["a", "b"] });
        await store.deleteTags(["b"]);
        for (const tags of [["a", "b"], ["a"], [], ["other"]]) {
          expect(await store.get("k", { tags })).toBeUndefined();
        }
      });

      it("removes an overwritten entry through the tags of its latest write", async () => {
        const store = await create();
        await store.set("k", bytes("1"), { ttlMs: TTL, tags: ["old"] });
        await store.set("k", bytes("2"), { ttlMs: TTL, tags: ["new"] });
        expect(await store.deleteTags(["new"])).toBe(1);
        expect(await store.get("k")).toBeUndefined();
      });
    });

    describe("key prefixes", () => {
      it("isolates stores with different prefixes", async () => {
        const suffix = randomUUID();
        const a = await create(`tenant-a-${suffix}`);
        const b = await create(`tenant-b-${suffix}`);
        const c = await create(`tenant-a-${suffix}:k`);
        await a.set("k", bytes("a"), { ttlMs: TTL, tags: ["t"] });
        await b.set("k", bytes("b"), { ttlMs: TTL, tags: ["t"] });
        await c.set("k", bytes("c"), { ttlMs: TTL, tags: ["t"] });
        expect(await a.deleteTags(["t"])).toBe(1);
        expect(await a.get("k")).toBeUndefined();
        expect(await b.get("k")).toEqual(bytes("b"));
        expect(await c.get("k")).toEqual(bytes("c"));
        expect(await b.delete(["k"])).toBe(1);
        expect(await c.get("k")).toEqual(bytes("c"));
      });

      // Only stores with a shared backend (Redis) have this property; in-process stores do not register it.
      const itShared = options.sharedBackend ? it : () => undefined;
      itShared("shares entries between stores with the same prefix", async () => {
        const prefix = `shared-${randomUUID()}`;
        const writer = await create(prefix);
        const reader = await create(prefix);
        await writer.set("k", bytes("v"), { ttlMs: TTL, tags: ["t"] });
        expect(await reader.get("k")).toEqual(bytes("v"));
        expect(await reader.deleteTags(["t"])).toBe(1);
        expect(await writer.delete(["k"])).toBe(0);
      });
    });

    describe("getEntry", () => {
      it("reports the remaining TTL and the tags of the latest write", async () => {
        const store = await create();
        if (!hasEntries(store)) return;
        await store.set("k", bytes("v"), { ttlMs: 30_000, tags: ["t1", "t2"] });
        const entry = await store.getEntry("k");
        expect(entry?.value).toEqual(bytes("v"));
        expect(entry?.ttlMs).toBeGreaterThan(25_000);
        expect(entry?.ttlMs).toBeLessThanOrEqual(30_000);
        expect([...(entry?.tags ?? [])].sort()).toEqual(["t1", "t2"]);
        expect(await store.getEntry("missing")).toBeUndefined();
      });
    });

    describeFences(create, options);

    describe("health and close", () => {
      it("reports healthy while open", async () => {
        const store = await create();
        await store.set("warm-up", bytes("v"), { ttlMs: TTL, tags: [] });
        expect(store.health().ok).toBe(true);
      });

      it("rejects operations after close with a StoreError, and closes twice harmlessly", async () => {
        const store = await create();
        await store.set("k", bytes("v"), { ttlMs: TTL, tags: [] });
        await store.close();
        await store.close();
        await expect(store.get("k")).rejects.toBeInstanceOf(StoreError);
        await expect(store.set("k", bytes("v"), { ttlMs: TTL, tags: [] })).rejects.toBeInstanceOf(StoreError);
        expect(store.health().ok).toBe(false);
      });
    });
  });
}
