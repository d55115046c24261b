import { describe, expect, it } from "vitest";
import { holdsDesired } from "./holds-desired.js";

const desired = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name: "apicache-api",
    labels: { "app.kubernetes.io/managed-by": "apicache-operator" },
    ownerReferences: [{ kind: "CachePolicy", name: "api", uid: "u1", controller: true }],
  },
  data: { "policy.yaml": "a: 1\n" },
};

describe("holdsDesired", () => {
  it("holds when the stored object has every applied field, plus what the server added", () => {
    const stored = {
      metadata: {
        ...desired.metadata,
        uid: "x",
        resourceVersion: "7",
        labels: { ...desired.metadata.labels, extra: "kept" },
        managedFields: [{ manager: "apicache-operator" }],
      },
      data: { ...desired.data, "other.yaml": "someone else's key" },
    };
    expect(holdsDesired(stored, desired)).toBe(true);
  });

  it("does not hold when an applied value differs, is missing, or a list changed", () => {
    expect(holdsDesired({ ...desired, data: { "policy.yaml": "a: 2\n" } }, desired)).toBe(false);
    expect(holdsDesired({ metadata: desired.metadata }, desired)).toBe(false);
    const moreOwners = {
      ...desired,
      metadata: { ...desired.metadata, ownerReferences: [...desired.metadata.ownerReferences, {}] },
    };
    expect(holdsDesired(moreOwners, desired)).toBe(false);
    expect(holdsDesired(undefined, desired)).toBe(false);
    expect(holdsDesired({ data: ["policy.yaml"] }, { data: { "policy.yaml": "" } })).toBe(false);
  });
});
