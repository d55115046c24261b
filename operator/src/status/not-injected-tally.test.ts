import { describe, expect, it } from "vitest";
import { NotInjectedTally } from "./not-injected-tally.js";

describe("the tally of pods running without the sidecar", () => {
  it("sums the latest count of each policy, replacing a policy's earlier one", () => {
    const tally = new NotInjectedTally();
    expect(tally.set("a/one", 2)).toBe(2);
    expect(tally.set("b/two", 3)).toBe(5);
    expect(tally.set("a/one", 1)).toBe(4);
    expect(tally.set("a/one", 1)).toBe(4);
  });

  it("forgets a policy whose pods are all injected, or that is gone", () => {
    const tally = new NotInjectedTally();
    tally.set("a/one", 2);
    tally.set("b/two", 3);
    expect(tally.set("a/one", 0)).toBe(3);
    expect(tally.set("a/one", 0)).toBe(3);
    expect(tally.set("never-seen/x", 0)).toBe(3);
  });

  it("reports nothing once cleared (the leader's term ended)", () => {
    const tally = new NotInjectedTally();
    tally.set("a/one", 2);
    tally.clear();
    expect(tally.total).toBe(0);
    expect(tally.set("a/one", 1)).toBe(1);
  });
});
