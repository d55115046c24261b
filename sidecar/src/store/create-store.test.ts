import { describe, expect, it } from "vitest";
import { createStore } from "./create-store.js";
import { StoreError } from "./errors.js";

const base = { keyPrefix: "ns/name", commandTimeoutMs: 50, memoryMaxBytes: 1 << 20, maxEntryAgeMs: 1_000 };

describe("createStore", () => {
  it("builds an in-memory store when no Redis URL is given", async () => {
    const store = createStore(base);
    expect(store.name).toBe("memory");
    await store.set("k", Buffer.from("v"), { ttlMs: 1_000, tags: [] });
    expect(await store.get("k")).toEqual(Buffer.from("v"));
    expect(store.stats().l1?.entries).toBe(1);
    await store.close();
  });

  it("reports memory operations to onOperation", async () => {
    const seen: string[] = [];
    const store = createStore({
      ...base,
      onOperation: (name, operation) => seen.push(`${name}:${operation}`),
    });
    await store.get("k");
    expect(seen).toEqual(["memory:get"]);
    await store.close();
  });

  it.each([
    ["ftp://cache:21", "APICACHE_ERR_STORE_URL_INVALID"],
    ["redis://cache:notaport", "APICACHE_ERR_STORE_URL_INVALID"],
    ["redis+cluster://", "APICACHE_ERR_STORE_URL_INVALID"],
  ])("rejects the URL %s with %s", (redisUrl, code) => {
    expect(() => createStore({ ...base, redisUrl })).toThrow(StoreError);
    expect(() => createStore({ ...base, redisUrl })).toThrow(code);
  });

  it("lists every invalid option at once", () => {
    const attempt = () =>
      createStore({
        ...base,
        redisUrl: "redis://127.0.0.1:1",
        keyPrefix: "bad|prefix",
        commandTimeoutMs: 0,
        memoryMaxBytes: -1,
        maxEntryAgeMs: Number.NaN,
      });
    expect(attempt).toThrow(/APICACHE_ERR_STORE_OPTIONS_INVALID/);
    expect(attempt).toThrow(/commandTimeoutMs.*memoryMaxBytes.*maxEntryAgeMs.*key prefix/);
  });
});
