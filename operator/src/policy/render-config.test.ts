import { parseSidecarConfigText, policyRevision, sidecarPolicyOf } from "@apicache/crds";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { storedPolicy } from "../../test/fixtures.js";
import { parseStored } from "./evaluate.js";
import { renderConfig } from "./render-config.js";

describe("the rendered sidecar config", () => {
  const verdict = parseStored(
    storedPolicy({ redis: true, generation: 3, spec: { sidecar: { resources: { limits: { cpu: "1" } } } } }),
  );
  if (!verdict.valid) throw new Error("fixture invalid");
  const rendered = renderConfig(verdict.policy);
  const document = parse(rendered.yaml) as Record<string, unknown>;

  it("is the sidecar's own SidecarConfig, schema version 1, not the CRD's apiVersion", () => {
    expect(document).toMatchObject({
      kind: "SidecarConfig",
      schemaVersion: 1,
      policy: { namespace: "shop", name: "booking-api" },
    });
    expect(document).not.toHaveProperty("apiVersion");
    expect(rendered.yaml).not.toContain("apicache.io/v1alpha1");
  });

  it("is what the sidecar reads back as the policy's sidecar part", () => {
    expect(parseSidecarConfigText(rendered.yaml)).toEqual({
      ok: true,
      policy: sidecarPolicyOf(verdict.policy),
      format: "SidecarConfig 1",
    });
  });

  it("leaves the operator's fields out: selector, upstream port, sidecar resources", () => {
    const spec = document.spec as Record<string, unknown>;
    expect(spec).not.toHaveProperty("selector");
    expect(spec).not.toHaveProperty("sidecar");
    expect(spec.upstream).toEqual({ timeout: "30s" });
  });

  it("says which policy it comes from, and its generation, on comment lines", () => {
    expect(rendered.yaml.split("\n").slice(0, 2)).toEqual([
      "# Rendered by apicache-operator from CachePolicy shop/booking-api. Do not edit.",
      "# apicache.io/revision: 3",
    ]);
    expect(policyRevision(rendered.yaml)).toBe(3);
  });

  it("hashes to sha256 and ignores the generation", () => {
    expect(rendered.configHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const bumped = parseStored(storedPolicy({ redis: true, generation: 7 }));
    if (!bumped.valid) throw new Error("fixture invalid");
    const unbumped = parseStored(storedPolicy({ redis: true, generation: 1 }));
    if (!unbumped.valid) throw new Error("fixture invalid");
    expect(renderConfig(bumped.policy).configHash).toBe(renderConfig(unbumped.policy).configHash);
  });

  it("holds no credentials, not even the Secret's name (the pod gets it by secretKeyRef)", () => {
    expect(rendered.yaml).not.toContain("redis-cache");
    expect(rendered.yaml).not.toContain("urlSecretRef");
    expect(rendered.yaml).not.toMatch(/redis:\/\//);
    expect(document.spec).toMatchObject({ store: { redis: { keyPrefix: "shop/booking-api" } } });
  });
});
