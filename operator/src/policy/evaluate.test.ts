import { describe, expect, it } from "vitest";
import { storedPolicy } from "../../test/fixtures.js";
import { parseStored, resolveOverlaps } from "./evaluate.js";
import { PolicyIndex } from "./policy-index.js";

describe("validation beyond the schema", () => {
  it("reports the parser's semantic problems as InvalidSpec", () => {
    const stored = storedPolicy({
      spec: { routes: [{ name: "r", path: "/a/:id", tags: ["user:{userId}"] }] },
    });
    expect(parseStored(stored)).toMatchObject({
      valid: false,
      reason: "InvalidSpec",
      message: expect.stringContaining("userId"),
    });
  });

  describe("when two policies' selectors overlap", () => {
    const older = storedPolicy({
      name: "older",
      selector: { matchLabels: { app: "api" } },
      created: "2025-01-01T00:00:00Z",
    });
    const newer = storedPolicy({
      name: "newer",
      selector: { matchLabels: { app: "api" } },
      created: "2025-02-01T00:00:00Z",
    });
    const third = storedPolicy({
      name: "third",
      selector: { matchLabels: { app: "api", tier: "x" } },
      created: "2025-03-01T00:00:00Z",
    });

    it.each([[[older, newer]], [[newer, older]]])("the older one wins whatever the order (%#)", (list) => {
      const verdicts = resolveOverlaps(list.map(parseStored));
      expect(verdicts.get("older")?.valid).toBe(true);
      expect(verdicts.get("newer")).toMatchObject({
        valid: false,
        reason: "OverlappingSelector",
        message: expect.stringContaining("overlaps CachePolicy older"),
      });
    });

    it("ties on creation time are broken by name", () => {
      const a = storedPolicy({ name: "a", selector: { matchLabels: { app: "api" } } });
      const b = storedPolicy({ name: "b", selector: { matchLabels: { app: "api" } } });
      const verdicts = resolveOverlaps([b, a].map(parseStored));
      expect([verdicts.get("a")?.valid, verdicts.get("b")?.valid]).toEqual([true, false]);
    });

    it("a loser does not knock out a later policy, only winners do", () => {
      const verdicts = resolveOverlaps([older, newer, third].map(parseStored));
      expect(verdicts.get("third")).toMatchObject({ valid: false, reason: "OverlappingSelector" });
      const disjoint = storedPolicy({ name: "d", selector: { matchLabels: { app: "other" } } });
      expect(resolveOverlaps([older, disjoint].map(parseStored)).get("d")?.valid).toBe(true);
    });
  });

  it("the index picks the winning policy for a pod", () => {
    const a = storedPolicy({
      name: "a",
      selector: { matchLabels: { app: "api" } },
      created: "2025-01-01T00:00:00Z",
    });
    const b = storedPolicy({
      name: "b",
      selector: { matchExpressions: [{ key: "app", operator: "Exists" }] },
      created: "2025-02-01T00:00:00Z",
    });
    const index = new PolicyIndex(() => [b, a]);
    expect(index.policyForPod("shop", { app: "api" })?.policy.metadata.name).toBe("a");
    expect(index.policyForPod("shop", { app: "zzz" })).toBeUndefined();
  });
});
