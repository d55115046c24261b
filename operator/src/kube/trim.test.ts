import { describe, expect, it } from "vitest";
import { holdsDesired } from "../reconcile/holds-desired.js";
import { DIGEST_MIN_LENGTH, digestOf, policyAsCached, trimOwned, withoutBookkeeping } from "./trim.js";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

describe("withoutBookkeeping", () => {
  it("drops managedFields and kubectl's last-applied copy, and keeps every other field", () => {
    const stored = {
      apiVersion: "apicache.io/v1alpha1",
      kind: "CachePolicy",
      metadata: {
        name: "a",
        creationTimestamp: new Date("2026-12-06T10:00:00Z"),
        labels: { x: "y" },
        annotations: { [LAST_APPLIED]: "{...}", keep: "me" },
        managedFields: [{ manager: "apicache-operator" }],
      },
      spec: { k: "v" },
    };
    expect(withoutBookkeeping(stored)).toEqual({
      apiVersion: "apicache.io/v1alpha1",
      kind: "CachePolicy",
      metadata: {
        name: "a",
        creationTimestamp: new Date("2026-12-06T10:00:00Z"),
        labels: { x: "y" },
        annotations: { keep: "me" },
      },
      spec: { k: "v" },
    });
    const onlyLastApplied = { metadata: { name: "c", annotations: { [LAST_APPLIED]: "{}" } } };
    expect(withoutBookkeeping(onlyLastApplied)).toEqual({ metadata: { name: "c" } });
    const plain = { metadata: { name: "b" } };
    expect(withoutBookkeeping(plain)).toBe(plain);
  });
});

describe("trimOwned", () => {
  const yaml = `schemaVersion: 1\n${"route: x\n".repeat(100)}`;
  const desired = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "apicache-api",
      namespace: "shop",
      labels: { "app.kubernetes.io/managed-by": "apicache-operator" },
      annotations: { "apicache.io/config-hash": "sha256:1" },
      ownerReferences: [{ apiVersion: "apicache.io/v1alpha1", kind: "CachePolicy", name: "api", uid: "u1" }],
    },
    data: { "policy.yaml": yaml, short: "kept as it is" },
  };
  const stored = {
    ...desired,
    metadata: {
      ...desired.metadata,
      uid: "cm-1",
      resourceVersion: "42",
      creationTimestamp: new Date("2026-12-06T10:00:00Z"),
      managedFields: [{ manager: "apicache-operator", fieldsV1: { f: {} } }],
      finalizers: ["x"],
    },
  };

  it("keeps identity, labels, annotations and owners, and long strings as their digest", () => {
    const trimmed = trimOwned(stored);
    expect(trimmed.metadata).toEqual({ ...desired.metadata, uid: "cm-1", resourceVersion: "42" });
    expect(trimmed.data).toEqual({ "policy.yaml": digestOf(yaml), short: "kept as it is" });
    expect(yaml.length).toBeGreaterThanOrEqual(DIGEST_MIN_LENGTH);
    expect(JSON.stringify(trimmed).length).toBeLessThan(JSON.stringify(stored).length / 2);
  });

  it("still tells whether the stored object holds what the operator would apply", () => {
    const trimmed = trimOwned(stored);
    expect(holdsDesired(trimmed, desired)).toBe(true);
    const edited = trimOwned({ ...stored, data: { ...stored.data, "policy.yaml": `${yaml}edited: 1\n` } });
    expect(holdsDesired(edited, desired)).toBe(false);
    // A digest never stands for a short value, nor is a stored value taken for one.
    expect(holdsDesired(trimOwned({ ...stored, data: { ...stored.data, short: "other" } }), desired)).toBe(
      false,
    );
    expect(holdsDesired(digestOf("kept as it is"), "kept as it is")).toBe(false);
  });

  it("keeps Role and RoleBinding content (short strings) exactly", () => {
    const role = {
      metadata: { name: "r", namespace: "shop", managedFields: [] },
      rules: [
        { apiGroups: [""], resources: ["configmaps"], resourceNames: ["apicache-api"], verbs: ["get"] },
      ],
    };
    expect(trimOwned(role)).toEqual({ metadata: { name: "r", namespace: "shop" }, rules: role.rules });
  });
});

describe("policyAsCached", () => {
  const policy = (generation: number, spec: object, extra: object = {}) =>
    withoutBookkeeping({
      apiVersion: "apicache.io/v1alpha1",
      kind: "CachePolicy",
      metadata: { name: "a", namespace: "shop", uid: "u-1", generation, managedFields: [{ manager: "m" }] },
      spec,
      ...extra,
    });

  it("holds the cached spec object when the update is the same generation with an equal spec (a status write)", () => {
    const cached = policyAsCached(policy(1, { routes: [{ name: "r" }] }), undefined);
    const update = policy(1, { routes: [{ name: "r" }] }, { status: { observedGeneration: 1 } });
    const kept = policyAsCached(update, cached);
    expect(kept.spec).toBe(cached.spec);
    expect(kept).toMatchObject({ status: { observedGeneration: 1 } });
  });

  it("keeps the new spec for a new generation, another policy of the name, no generation, or another spec at the same generation", () => {
    const cached = policyAsCached(policy(1, { routes: [{ name: "r" }] }), undefined);
    const edited = policy(2, { routes: [{ name: "s" }] });
    expect(policyAsCached(edited, cached).spec).toBe(edited.spec);
    const recreated = {
      ...policy(1, { routes: [{ name: "r" }] }),
      metadata: { name: "a", uid: "u-2", generation: 1 },
    };
    expect(policyAsCached(recreated, cached).spec).toBe(recreated.spec);
    const { generation: _none, ...metadata } = edited.metadata;
    expect(policyAsCached({ ...edited, metadata }, cached).spec).toBe(edited.spec);
    // A CRD default the API server now fills in on read, or an etcd restore: same generation, another spec.
    const defaulted = policy(1, { routes: [{ name: "r" }], mode: "Enforce" });
    expect(policyAsCached(defaulted, cached).spec).toBe(defaulted.spec);
  });
});
