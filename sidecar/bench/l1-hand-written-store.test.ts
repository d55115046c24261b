import { describe, expect, it } from "vitest";
import { describeStoreContract } from "../test/store-contract.js";
import { HandWrittenMemoryStore } from "./l1-hand-written-store.js";

// The benchmark's baseline must keep the contract of the store it is compared with (ADR 0033).
describeStoreContract(
  "memory, hand-written LRU (bench baseline)",
  () => new HandWrittenMemoryStore({ maxBytes: 16 * 1024 * 1024 }),
  { sharedBackend: false },
);

describe("the hand-written L1 (bench baseline)", () => {
  const value = Buffer.alloc(100, 1);
  const opts = (ttlMs: number, tags: string[] = []) => ({ ttlMs, tags });

  it("forgets an entry exactly when its TTL passes on the injected clock, as MemoryStore does", () => {
    let now = 1_000;
    const store = new HandWrittenMemoryStore({ maxBytes: 10_000, now: () => now });
    store.put("k", value, opts(100, ["t"]));
    now += 99;
    expect(store.lookup("k")).toBeDefined();
    now += 1;
    expect(store.lookup("k")).toBeUndefined();
    expect([store.entries, store.tagCount, store.bytes]).toEqual([0, 0, 0]);
  });

  it("keeps the tag index in step through eviction and overwrite", () => {
    const probe = new HandWrittenMemoryStore({ maxBytes: 10_000 });
    probe.put("k0", value, opts(60_000, ["t", "only-k0"]));
    const store = new HandWrittenMemoryStore({ maxBytes: probe.bytes * 2 });
    store.put("k0", value, opts(60_000, ["t", "only-k0"]));
    store.put("k1", value, opts(60_000, ["t", "only-k0"]));
    store.put("k1", value, opts(60_000, ["t", "u"]));
    store.put("k2", value, opts(60_000, ["t", "u"]));
    expect(store.lookup("k0")).toBeUndefined();
    expect(store.removeTags(["only-k0"])).toBe(0);
    expect(store.removeTags(["t"])).toBe(2);
    expect(store.tagCount).toBe(0);
  });
});
