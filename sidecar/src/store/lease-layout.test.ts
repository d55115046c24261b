import { describe, expect, it } from "vitest";
import { keySlot } from "./cluster-slot.js";
import {
  FILL_LEASE_CAP_MS,
  fillLeaseKey,
  fillLeaseMs,
  leaseDecision,
  msUntilNextSlot,
  warmLeaseKey,
  warmLeaseMs,
  warmSlot,
} from "./lease-layout.js";
import { entryKey } from "./redis-layout.js";

describe("lease layout", () => {
  describe("a fill lease", () => {
    it.each([
      "GET|http|api.test.svc|/items/7",
      "GET|http|h|/a{b}c",
      "GET|http|h|/{}{x}",
      "GET|http|h|/x}y{z",
      "GET|http|h|/ünïcode",
    ])("lives in the slot of its entry: %s", (key) => {
      expect(keySlot(fillLeaseKey("shop/api", key))).toBe(keySlot(entryKey("shop/api", key)));
    });

    it("is named apart from entries, tag sets and generations", () => {
      expect(fillLeaseKey("shop/api", "k")).toMatch(/^shop\/api:l\|\{[0-9a-z]+\}k$/);
    });
  });

  describe("its time", () => {
    it("follows the upstream timeout, plus the time to store", () => {
      expect(fillLeaseMs(1_000)).toBe(1_250);
    });

    it("is capped, so a dead holder blocks nobody for long", () => {
      expect(fillLeaseMs(30_000)).toBe(FILL_LEASE_CAP_MS);
    });
  });

  describe("after SET NX", () => {
    it("leads when the lease was taken", () => {
      expect(leaseDecision("OK", 1_000, 1_000, 50)).toEqual({ kind: "lead" });
    });

    it("waits what is left of another pod's lease, plus a margin for its release to arrive", () => {
      expect(leaseDecision(null, 400, 1_000, 50)).toEqual({ kind: "wait", waitMs: 450 });
    });

    it("never waits longer than a lease, whatever the key's TTL says", () => {
      expect(leaseDecision(null, 60_000, 1_000, 50)).toEqual({ kind: "wait", waitMs: 1_050 });
      expect(leaseDecision(null, -1, 1_000, 50)).toEqual({ kind: "wait", waitMs: 1_050 });
    });

    it("looks again at once when the lease was released between the two commands", () => {
      expect(leaseDecision(null, -2, 1_000, 50)).toEqual({ kind: "wait", waitMs: 0 });
    });
  });

  describe("warm slots", () => {
    it("cut the wall clock into `every`-long slots", () => {
      expect(warmSlot(29_999, 10_000)).toBe(2);
      expect(warmSlot(30_000, 10_000)).toBe(3);
      expect(msUntilNextSlot(29_999, 10_000)).toBe(1);
      expect(msUntilNextSlot(30_000, 10_000)).toBe(10_000);
    });

    it("give each entry one lease per slot, outliving the slot", () => {
      expect(warmLeaseKey("p", { path: "/a?b=1", host: "h" }, 7)).toBe("p:w|7|h|/a?b=1");
      expect(warmLeaseKey("p", { path: "/a" }, 8)).not.toBe(warmLeaseKey("p", { path: "/a" }, 7));
      expect(warmLeaseMs(25_000, 10_000)).toBe(15_000);
    });
  });
});
