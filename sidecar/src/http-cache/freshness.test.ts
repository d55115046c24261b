import { describe, expect, it } from "vitest";
import type { CacheEntry } from "./entry.js";
import { ageSeconds, entryState, storeLifetimeMs, ttlSeconds, usableOnError } from "./freshness.js";

const entry: CacheEntry = {
  status: 200,
  headers: [],
  body: Buffer.alloc(0),
  storedAt: 1_000_000,
  initialAgeSeconds: 2,
  freshMs: 60_000,
  staleWhileRevalidateMs: 10_000,
  staleIfErrorMs: 100_000,
  tags: [],
  vary: [],
};
const at = (ms: number) => entry.storedAt + ms;

describe("an entry's freshness", () => {
  it.each([
    [0, "fresh"],
    [59_999, "fresh"],
    [60_000, "stale-while-revalidate"],
    [69_999, "stale-while-revalidate"],
    [70_000, "stale-if-error"],
    [159_999, "stale-if-error"],
    [160_000, "expired"],
  ])("after %i ms is %s", (elapsed, state) => {
    expect(entryState(entry, at(elapsed))).toBe(state);
  });

  it("counts a clock that went backwards as no time at all", () => {
    expect(entryState(entry, entry.storedAt - 5_000)).toBe("fresh");
    expect(ageSeconds(entry, entry.storedAt - 5_000)).toBe(2);
  });

  it("is usable on error while fresh or within staleIfError", () => {
    expect(usableOnError(entry, at(10))).toBe(true);
    expect(usableOnError(entry, at(159_999))).toBe(true);
    expect(usableOnError(entry, at(160_000))).toBe(false);
  });

  describe("when stale-while-revalidate outlasts stale-if-error", () => {
    it("still reports the revalidation window", () => {
      const long = { ...entry, staleWhileRevalidateMs: 200_000, staleIfErrorMs: 0 };
      expect(entryState(long, at(150_000))).toBe("stale-while-revalidate");
      expect(storeLifetimeMs(long)).toBe(260_000);
    });
  });

  it("reports Age in whole seconds including the upstream's age", () => {
    expect(ageSeconds(entry, at(4_999))).toBe(6);
  });

  it.each([
    [0, 60],
    [59_001, 0],
    [60_000, 0],
    [60_001, -1],
    [65_000, -5],
  ])("after %i ms reports ttl %i", (elapsed, ttl) => {
    expect(ttlSeconds(entry, at(elapsed))).toBe(ttl);
  });
});

describe("how long the store keeps an entry", () => {
  const plain = { ...entry, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 };

  it("without a validator: freshness only, when there is no stale window", () => {
    expect(storeLifetimeMs(plain)).toBe(60_000);
  });

  it.each([
    ["ETag", ["etag", '"v1"']],
    ["Last-Modified", ["last-modified", "Thu, 01 Jan 2026 00:00:00 GMT"]],
  ])(
    "with an %s: past freshness, for conditional revalidation, whatever staleIfError says",
    (_name, field) => {
      expect(storeLifetimeMs({ ...plain, headers: field })).toBe(120_000);
      expect(storeLifetimeMs({ ...plain, freshMs: 1_000, headers: field })).toBe(61_000);
      expect(storeLifetimeMs({ ...plain, freshMs: 48 * 3_600_000, headers: field })).toBe(72 * 3_600_000);
    },
  );

  it("not for a status that is never revalidated", () => {
    expect(storeLifetimeMs({ ...plain, status: 404, headers: ["etag", '"v1"'] })).toBe(60_000);
  });
});
