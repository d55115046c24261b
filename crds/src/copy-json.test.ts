import { describe, expect, it } from "vitest";
import { copyJson } from "./copy-json.js";

describe("copyJson", () => {
  it("copies objects and arrays, so filling in the copy leaves the original as it was", () => {
    const original = { spec: { routes: [{ name: "a", methods: ["GET"] }] } };
    const copy = copyJson(original);
    expect(copy).toEqual(original);
    copy.spec.routes[0]?.methods.push("HEAD");
    (copy.spec as Record<string, unknown>).mode = "Enforce";
    expect(original).toEqual({ spec: { routes: [{ name: "a", methods: ["GET"] }] } });
  });

  it("keeps Dates, numbers, booleans and null as they are", () => {
    const at = new Date(0);
    const copy = copyJson({ at, n: 1.5, yes: true, none: null, list: [null, 2] });
    expect(copy.at).toBe(at);
    expect(copy).toEqual({ at, n: 1.5, yes: true, none: null, list: [null, 2] });
  });

  it("keeps an own __proto__ key an own property: it never becomes the copy's prototype", () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
    const copy = copyJson(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(copy)).toEqual(["__proto__", "a"]);
    expect(copy).toEqual(structuredClone(parsed));
  });
});

describe("copyJson on aliases and cycles (what YAML anchors make)", () => {
  it("copies an object met twice once, and a cycle into a cycle, as structuredClone does", () => {
    const shared = { ttl: "5m" };
    const cyclic: Record<string, unknown> = { a: shared, b: shared };
    cyclic.self = cyclic;
    const copy = copyJson(cyclic);
    expect(copy).not.toBe(cyclic);
    expect(copy.a).not.toBe(shared);
    expect(copy.a).toBe(copy.b);
    expect(copy.self).toBe(copy);
  });

  it("lets the parser report a self-referencing YAML document instead of overflowing the stack", async () => {
    const { parseCachePolicyText } = await import("./parse.js");
    const result = parseCachePolicyText(
      "&m {apiVersion: apicache.io/v1alpha1, kind: CachePolicy, metadata: {name: a}, spec: *m}",
    );
    expect(result.ok).toBe(false);
  });
});
