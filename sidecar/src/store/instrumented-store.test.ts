import { describe, expect, it } from "vitest";
import { FlakyStore } from "../../test/store-fakes.js";
import type { StoreOperation } from "../telemetry/metric-names.js";
import { storeUnavailable } from "./errors.js";
import { InstrumentedStore } from "./instrumented-store.js";

type Observation = [string, StoreOperation, number, string | undefined];

function setup() {
  const backend = new FlakyStore();
  const seen: Observation[] = [];
  const store = new InstrumentedStore(backend, (store, operation, seconds, reason) => {
    seen.push([store, operation, seconds, reason]);
  });
  return { backend, store, seen };
}

describe("instrumented store", () => {
  it("reports every operation with its name and a duration", async () => {
    const { store, seen } = setup();
    await store.set("k", Buffer.from("v"), { ttlMs: 1_000, tags: ["t"] });
    await store.get("k");
    await store.getEntry("k");
    await store.delete(["k"]);
    await store.deleteTags(["t"]);
    expect(seen.map(([name, operation]) => [name, operation])).toEqual([
      ["fake-redis", "set"],
      ["fake-redis", "get"],
      ["fake-redis", "get"],
      ["fake-redis", "delete"],
      ["fake-redis", "delete_tags"],
    ]);
    for (const [, , seconds, reason] of seen) {
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(1);
      expect(reason).toBeUndefined();
    }
  });

  it("reports a failed operation with the error's reason and still rejects", async () => {
    const { backend, store, seen } = setup();
    backend.down(storeUnavailable("fake-redis", "get", new Error("ECONNREFUSED")));
    await expect(store.get("k")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_UNAVAILABLE" });
    expect(seen).toEqual([["fake-redis", "get", expect.any(Number), "unavailable"]]);
  });

  it("reports errors that are not StoreErrors as unknown", async () => {
    const { backend, store, seen } = setup();
    backend.down(new TypeError("bug"));
    await expect(store.delete(["k"])).rejects.toThrow("bug");
    expect(seen[0]?.[3]).toBe("unknown");
  });

  it("keeps working when the observer throws", async () => {
    const backend = new FlakyStore();
    const store = new InstrumentedStore(backend, () => {
      throw new Error("observer broke");
    });
    await store.set("k", Buffer.from("v"), { ttlMs: 1_000, tags: [] });
    expect(await store.get("k")).toEqual(Buffer.from("v"));
  });

  it("can report under another name", async () => {
    const seen: string[] = [];
    const store = new InstrumentedStore(new FlakyStore(), (name) => seen.push(name), "tiered");
    await store.get("k");
    expect(seen).toEqual(["tiered"]);
  });
});
