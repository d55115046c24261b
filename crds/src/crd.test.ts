import { describe, expect, it } from "vitest";
import { cachePolicyCrd, structural } from "./crd.js";
import { rulesOf } from "./rules.js";
import { CachePolicySpecSchema } from "./schema.js";

type Node = Record<string, unknown>;
const crd = cachePolicyCrd() as Node;
const version = (crd.spec as { versions: Node[] }).versions[0] as Node;
const root = (version.schema as Node).openAPIV3Schema as { properties: Record<string, Node> };
const spec = root.properties.spec as Node;

/** Every schema node with its path, depth first. */
function* nodes(node: Node, path = "spec"): Generator<[string, Node]> {
  yield [path, node];
  for (const [key, child] of Object.entries((node.properties as Record<string, Node>) ?? {})) {
    yield* nodes(child, `${path}.${key}`);
  }
  if (node.items) yield* nodes(node.items as Node, `${path}[]`);
  if (typeof node.additionalProperties === "object")
    yield* nodes(node.additionalProperties as Node, `${path}{}`);
}

describe("the generated CachePolicy CRD", () => {
  it("is namespaced, served and stored as v1alpha1, with the status subresource and short name cp", () => {
    expect(crd).toMatchObject({
      metadata: { name: "cachepolicies.apicache.io" },
      spec: { scope: "Namespaced", names: { kind: "CachePolicy", shortNames: ["cp"] } },
    });
    expect(version).toMatchObject({
      name: "v1alpha1",
      served: true,
      storage: true,
      subresources: { status: {} },
    });
  });

  it("has the Ready, Mode, Pods and Age printer columns", () => {
    const columns = (version.additionalPrinterColumns as { name: string }[]).map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(["Ready", "Mode", "Pods", "Age"]));
  });

  describe("its schema", () => {
    it.each([...nodes(spec)])("is structural at %s", (_path, node) => {
      for (const forbidden of ["anyOf", "oneOf", "allOf", "not", "$ref", "const", "patternProperties"]) {
        expect(node).not.toHaveProperty(forbidden);
      }
      expect(node.additionalProperties).not.toBe(false);
      if (node["x-kubernetes-int-or-string"] !== true) expect(typeof node.type).toBe("string");
    });

    it("carries CEL rules for selector, durations, paths and PerUser identity", () => {
      const rules = [...nodes(spec)].flatMap(([path, node]) =>
        ((node["x-kubernetes-validations"] as { rule: string }[]) ?? []).map((r) => [path, r.rule] as const),
      );
      const paths = new Set(rules.map(([path]) => path));
      for (const path of [
        "spec",
        "spec.selector",
        "spec.defaults.ttl",
        "spec.routes[].path",
        "spec.routes[].ttl",
        "spec.warm[].every",
      ]) {
        expect(paths, path).toContain(path);
      }
    });

    it("checks ports and byte sizes by OpenAPI bounds and patterns, not CEL (cheap on every Kubernetes)", () => {
      const props = spec.properties as Record<string, Node>;
      const child = (parent: Node | undefined, key: string) =>
        ((parent?.properties ?? {}) as Record<string, Node>)[key];
      const port = child(props.upstream, "port");
      const size = child(props.defaults, "maxBodyBytes");
      expect(port).toMatchObject({
        "x-kubernetes-int-or-string": true,
        minimum: 1,
        maximum: 65535,
        maxLength: 15,
      });
      expect(size).toMatchObject({ "x-kubernetes-int-or-string": true, minimum: 0, maxLength: 32 });
      expect(port?.pattern).toBeTypeOf("string");
      expect(size?.pattern).toBeTypeOf("string");
      for (const node of [port, size]) expect(node?.["x-kubernetes-validations"]).toBeUndefined();
    });

    it("declares route and invalidation names as list-map keys, so the API server rejects duplicates", () => {
      const props = spec.properties as Record<string, Node>;
      for (const list of ["routes", "invalidate"]) {
        expect(props[list]).toMatchObject({
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
        });
      }
    });

    it("describes every node, items and map values included (what `kubectl explain` shows)", () => {
      const all = [...nodes(root as Node, "cachepolicy")];
      // metadata may carry nothing but `type`: the API server forbids even a description there.
      const undescribed = all
        .filter(([path]) => path !== "cachepolicy.metadata")
        .filter(([, node]) => typeof node.description !== "string" || node.description.trim() === "")
        .map(([path]) => path);
      expect(all.length).toBeGreaterThan(100);
      expect(undescribed, "add a description in crds/src/schema.ts and run `make manifests`").toEqual([]);
    });

    it("bounds every list and string that a CEL rule iterates or matches (finite cost estimate)", () => {
      for (const [path, node] of nodes(spec)) {
        if (node.type === "array") expect(node.maxItems, path).toBeTypeOf("number");
      }
    });
  });

  it("emits exactly the rules the parser runs (one definition for both)", () => {
    const parserRules = rulesOf(CachePolicySpecSchema).map((r) => r.rule);
    const crdRules = (
      structural(CachePolicySpecSchema)["x-kubernetes-validations"] as { rule: string }[]
    ).map((r) => r.rule);
    expect(crdRules).toEqual(parserRules);
    expect(crdRules.length).toBeGreaterThan(0);
  });
});
