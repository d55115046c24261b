import { describe, expect, it } from "vitest";
import { storedPolicy } from "../../test/fixtures.js";
import { PolicyIndex } from "./policy-index.js";
import type { StoredPolicy } from "./types.js";

describe("the policy index", () => {
  it("answers from its memo while the cache holds the same objects, and sees an object the cache replaced", () => {
    let cached: StoredPolicy[] = [
      storedPolicy({ name: "a" }),
      storedPolicy({ name: "b", selector: { matchLabels: { app: "b" } } }),
    ];
    const index = new PolicyIndex(() => [...cached]); // a new array per call, as an informer's list
    const first = index.verdicts("shop");
    expect(index.verdicts("shop")).toBe(first);
    // An edit: the cache holds a new object for "a" (generation 2, another TTL).
    const edited = storedPolicy({
      name: "a",
      generation: 2,
      spec: { routes: [{ name: "r", path: "/x/:id", ttl: "9s" }] },
    });
    cached = [edited, cached[1] as StoredPolicy];
    const second = index.verdicts("shop");
    expect(second).not.toBe(first);
    const a = second.get("a");
    expect(a?.valid && a.policy.spec.routes[0]?.ttl).toBe("9s");
    // A status-only update: a new object, same generation: the verdicts are the memo's.
    cached = [{ ...edited, status: { observedGeneration: 2 } }, cached[1] as StoredPolicy];
    expect(index.verdicts("shop")).toBe(second);
  });

  it("keeps only a policy's identity in its verdict, never the stored object (which a status write replaces)", () => {
    const stored = { ...storedPolicy({ name: "a" }), status: { observedGeneration: 1 } };
    const verdict = new PolicyIndex(() => [stored]).verdict("shop", "a");
    expect(verdict?.stored).not.toBe(stored);
    expect(verdict?.stored).toEqual({
      metadata: {
        name: "a",
        namespace: stored.metadata.namespace,
        uid: stored.metadata.uid,
        creationTimestamp: stored.metadata.creationTimestamp,
      },
    });
  });

  it("drops the parse of a policy gone from its namespace, with or without a delete event", () => {
    let cached: StoredPolicy[] = [
      storedPolicy({ name: "a" }),
      storedPolicy({ name: "b", selector: { matchLabels: { app: "b" } } }),
    ];
    const index = new PolicyIndex(() => [...cached]);
    const before = index.verdict("shop", "a");
    cached = [cached[1] as StoredPolicy];
    index.verdicts("shop");
    // "a" is back (a relist that briefly missed it): parsed again, not answered from a stale memo.
    cached = [storedPolicy({ name: "a" }), ...cached];
    const again = index.verdict("shop", "a");
    expect(again).toEqual(before);
    expect(again).not.toBe(before);
  });
});
