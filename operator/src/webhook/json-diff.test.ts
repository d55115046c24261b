import jsonPatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { jsonDiff } from "./json-diff.js";

/** Applies the diff to a copy of `before` with an independent implementation (validating each op). */
function applied(before: unknown, after: unknown): unknown {
  const patch = JSON.parse(JSON.stringify(jsonDiff(before, after))) as jsonPatch.Operation[];
  return jsonPatch.applyPatch(structuredClone(before), patch, true, false).newDocument;
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe("jsonDiff", () => {
  it("is empty for equal documents, and for fields that are undefined (not in the JSON) on both sides", () => {
    expect(jsonDiff({ a: [1, { b: "x" }] }, { a: [1, { b: "x" }] })).toEqual([]);
    expect(jsonDiff({ a: 1, gone: undefined }, { a: 1, absent: undefined })).toEqual([]);
  });

  it("escapes ~ and / in keys, as annotation keys need", () => {
    const before = { metadata: { annotations: { "a~b": "1" } } };
    const after = { metadata: { annotations: { "a~b": "2", "apicache.io/status": "{}" } } };
    expect(jsonDiff(before, after)).toEqual([
      { op: "replace", path: "/metadata/annotations/a~0b", value: "2" },
      { op: "add", path: "/metadata/annotations/apicache.io~1status", value: "{}" },
    ]);
    expect(applied(before, after)).toEqual(after);
  });

  it("grows arrays at the end, shrinks them from the end, and diffs the common part in place", () => {
    const before = { list: [{ n: 1 }, { n: 2 }, { n: 3 }], other: ["a"] };
    const after = { list: [{ n: 1 }, { n: 20 }], other: ["a", "b", "c"] };
    expect(jsonDiff(before, after)).toEqual([
      { op: "replace", path: "/list/1/n", value: 20 },
      { op: "remove", path: "/list/2" },
      { op: "add", path: "/other/1", value: "b" },
      { op: "add", path: "/other/2", value: "c" },
    ]);
    expect(applied(before, after)).toEqual(after);
  });

  it("adds items put in front of an array's old ones (the same references) as inserts, leaving the old ones untouched", () => {
    const migrate = { name: "migrate", securityContext: { runAsUser: 1000 } };
    const seed = { name: "seed" };
    const sidecar = { name: "apicache-sidecar", restartPolicy: "Always" };
    const before = { spec: { initContainers: [migrate, seed] } };
    const after = { spec: { initContainers: [sidecar, migrate, seed] } };
    expect(jsonDiff(before, after)).toEqual([{ op: "add", path: "/spec/initContainers/0", value: sidecar }]);
    expect(applied(before, after)).toEqual(after);
    // Copies, not the same references: compared index by index, still right.
    const copied = { spec: { initContainers: [sidecar, { ...migrate }, { ...seed }] } };
    expect(jsonDiff(before, copied).length).toBeGreaterThan(1);
    expect(applied(before, copied)).toEqual(copied);
  });

  it("replaces a value whose kind changed (object, array, scalar, null) and removes a key set to undefined", () => {
    const before = { a: { x: 1 }, b: [1], c: "s", d: null, e: 1, f: "kept" };
    const after = { a: [1], b: { y: 2 }, c: { z: 3 }, d: 0, e: undefined, f: "kept" };
    expect(applied(before, after)).toEqual(json(after));
    expect(jsonDiff(before, after)).toContainEqual({ op: "remove", path: "/e" });
  });

  it("carries the new document's values by reference, not copies", () => {
    const sidecar = { name: "apicache-sidecar", args: ["--policy", "/etc/apicache/policy.yaml"] };
    const [operation] = jsonDiff({ spec: { initContainers: [] } }, { spec: { initContainers: [sidecar] } });
    expect(operation).toMatchObject({ op: "add", path: "/spec/initContainers/0" });
    expect((operation as { value: unknown }).value).toBe(sidecar);
  });

  it("turns any document into any other: 2,000 random pairs, applied by fast-json-patch", () => {
    const documents = new RandomDocuments(20261207);
    for (let i = 0; i < 2_000; i++) {
      const before = { root: documents.value(0) };
      const after = { root: documents.mutate(before.root, 0) };
      expect(applied(before, after)).toEqual(json(after));
    }
  });
});

/** Seeded random JSON documents, and mutated copies that share most of their parts, as an injected pod does. */
class RandomDocuments {
  private static readonly KEYS = ["a", "b", "c/d", "e~f", "0", ""];
  private static readonly SCALARS = [null, true, 0, 1.5, "", "x"];

  constructor(private seed: number) {}

  private random(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31;
    return this.seed / 2 ** 31;
  }

  value(depth: number): unknown {
    const roll = this.random();
    if (depth > 3 || roll < 0.3) return RandomDocuments.SCALARS[Math.floor(this.random() * 6)];
    if (roll < 0.6) return Array.from({ length: Math.floor(this.random() * 4) }, () => this.value(depth + 1));
    const out: Record<string, unknown> = {};
    for (const key of RandomDocuments.KEYS) if (this.random() < 0.5) out[key] = this.value(depth + 1);
    return out;
  }

  mutate(input: unknown, depth: number): unknown {
    if (this.random() < 0.3) return this.value(depth);
    if (Array.isArray(input)) return this.mutateArray(input, depth);
    if (typeof input === "object" && input !== null)
      return this.mutateObject(input as Record<string, unknown>, depth);
    return this.value(depth);
  }

  private mutateArray(input: unknown[], depth: number): unknown[] {
    const out = input.map((item) => (this.random() < 0.3 ? this.mutate(item, depth + 1) : item));
    if (this.random() < 0.3) out.push(this.value(depth + 1));
    if (this.random() < 0.3) out.splice(0, 1);
    if (this.random() < 0.3) out.unshift(this.value(depth + 1), this.value(depth + 1));
    return out;
  }

  private mutateObject(input: Record<string, unknown>, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = { ...input };
    for (const key of RandomDocuments.KEYS) {
      const roll = this.random();
      if (roll < 0.15) delete out[key];
      else if (roll < 0.2) out[key] = undefined;
      else if (roll < 0.4) out[key] = this.mutate(out[key], depth + 1);
    }
    return out;
  }
}
