import { describe, expect, it } from "vitest";
import { type OwnedMetadata, owningPolicyKey } from "./owning-policy.js";
import { configMapManifest, roleBindingManifest, roleManifest } from "./render-config.js";

const ref = { name: "booking", namespace: "shop", uid: "u-1" };
const controllerRef = (kind: string, apiVersion: string, name: string) => ({
  apiVersion,
  kind,
  name,
  uid: "u-2",
  controller: true,
});

describe("owningPolicyKey", () => {
  it.each([
    ["ConfigMap", configMapManifest(ref, { yaml: "", configHash: "sha256:0" }).metadata],
    ["Role", roleManifest(ref).metadata],
    ["RoleBinding", roleBindingManifest(ref, ["api"]).metadata],
  ])("maps the %s the operator renders to its policy", (_, metadata) => {
    expect(owningPolicyKey(metadata)).toBe("shop/booking");
  });

  it.each<[string, OwnedMetadata, string | undefined]>([
    [
      "the controller owner reference wins over a relabelled policy label",
      {
        namespace: "shop",
        labels: { "apicache.io/policy": "other" },
        ownerReferences: [controllerRef("CachePolicy", "apicache.io/v1alpha1", "booking")],
      },
      "shop/booking",
    ],
    [
      "the policy label is used when the owner reference was stripped",
      { namespace: "shop", labels: { "apicache.io/policy": "booking" } },
      "shop/booking",
    ],
    [
      "a non-controller CachePolicy reference is ignored",
      {
        namespace: "shop",
        ownerReferences: [
          { ...controllerRef("CachePolicy", "apicache.io/v1alpha1", "x"), controller: false },
        ],
      },
      undefined,
    ],
    [
      "a controller from another API group is ignored",
      {
        namespace: "shop",
        labels: { "apicache.io/policy": "booking" },
        ownerReferences: [controllerRef("CachePolicy", "example.com/v1", "x")],
      },
      "shop/booking",
    ],
    [
      "a controller of another kind is ignored",
      { namespace: "shop", ownerReferences: [controllerRef("Deployment", "apps/v1", "booking")] },
      undefined,
    ],
    ["an object naming no policy maps to nothing", { namespace: "shop", labels: {} }, undefined],
    [
      "an object without a namespace maps to nothing",
      { labels: { "apicache.io/policy": "booking" } },
      undefined,
    ],
  ])("%s", (_, metadata, expected) => {
    expect(owningPolicyKey(metadata)).toBe(expected);
  });

  it("maps missing metadata to nothing", () => {
    expect(owningPolicyKey(undefined)).toBeUndefined();
  });
});
