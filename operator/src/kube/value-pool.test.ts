import { describe, expect, it } from "vitest";
import { POOLED_MAX_LENGTH, ValuePool } from "./value-pool.js";

/** Two equal strings that are different heap objects (as two JSON.parse calls make them). */
const fresh = (text: string) => JSON.parse(JSON.stringify(text)) as string;

describe("ValuePool", () => {
  it("shares equal strings and string lists across objects, in place, and leaves what is unique alone", () => {
    const pool = new ValuePool();
    const role = () =>
      JSON.parse(
        '{"metadata":{"namespace":"shop","uid":"u-1","resourceVersion":"7","labels":{"app":"api"}},' +
          '"rules":[{"verbs":["get","list","watch"],"resources":["configmaps"]}]}',
      );
    const [a, b] = [pool.share(role()), pool.share(role())];
    expect(b).toEqual(a);
    expect(b.rules[0].verbs).toBe(a.rules[0].verbs);
    expect(Object.isFrozen(a.rules[0].verbs)).toBe(true);
    expect(pool.size).toBeGreaterThan(0);
    // uid and resourceVersion are not pooled: the pool holds no entry for them.
    const sizeBefore = pool.size;
    pool.share({ uid: "u-2", resourceVersion: "8" });
    expect(pool.size).toBe(sizeBefore);
  });

  it("hands out the first copy of a string it has seen, and leaves long strings as they are", () => {
    const pool = new ValuePool();
    const first = fresh("apicache.io/v1alpha1");
    expect(pool.string(first)).toBe(first);
    expect(pool.string(fresh("apicache.io/v1alpha1"))).toBe(first);
    const long = "x".repeat(POOLED_MAX_LENGTH + 1);
    pool.string(long);
    expect(pool.size).toBe(1);
  });

  it("starts again empty past its capacity, so strings of objects long gone are not kept", () => {
    const pool = new ValuePool(3);
    for (const value of ["a", "b", "c"]) pool.string(value);
    expect(pool.size).toBe(3);
    pool.string("d");
    expect(pool.size).toBe(1);
  });

  it("does not write into frozen values (the pool's own lists, shared again)", () => {
    const pool = new ValuePool();
    const object = { verbs: ["get"], nested: { verbs: ["get"] } };
    pool.share(object);
    expect(() => pool.share(object)).not.toThrow();
    expect(object.nested.verbs).toBe(object.verbs);
  });

  it("never hands one list for another whose strings join to the same text", () => {
    const pool = new ValuePool();
    const joined = pool.list(["prod\u0000canary"]);
    expect(pool.list(["prod", "canary"])).toEqual(["prod", "canary"]);
    expect(pool.list(["prod\u0000canary"])).toBe(joined);
  });

  it("does not pool names, timestamps, messages or digests (unique to one object: they would churn the pool)", () => {
    const pool = new ValuePool();
    pool.share({
      metadata: { name: "apicache-api-0", creationTimestamp: "2026-12-07T00:00:00Z" },
      status: { conditions: [{ message: "applied", lastTransitionTime: "2026-12-07T00:00:00Z" }] },
      data: { "policy.yaml": "\u0000apicache-sha256:abc" },
    });
    expect(pool.size).toBe(0);
  });
});
