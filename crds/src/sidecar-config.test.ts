import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadExamples } from "./examples.js";
import { parseCachePolicyOrThrow, parseCachePolicyText } from "./parse.js";
import { policyRevision } from "./policy-text.js";
import {
  parseSidecarConfig,
  parseSidecarConfigText,
  renderSidecarConfig,
  SidecarConfigV1Schema,
  sidecarConfigDocument,
  sidecarPolicyOf,
} from "./sidecar-config.js";

const examples = loadExamples();
const valid = examples.filter((example) => example.kind === "valid");
const booking = parseCachePolicyOrThrow(
  parseYaml(valid.find((example) => example.file === "booking-api.yaml")?.text ?? ""),
);
const withResources = parseCachePolicyOrThrow({
  ...parseYaml(valid.find((example) => example.file === "minimal.yaml")?.text ?? ""),
  metadata: { name: "api", namespace: "shop", generation: 4 },
});

/** A SidecarConfig document around a spec, as a test writes one by hand. */
const config = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  kind: "SidecarConfig",
  schemaVersion: 1,
  policy: { namespace: "shop", name: "api" },
  spec,
  ...extra,
});

describe("the sidecar configuration", () => {
  describe("as the operator renders it", () => {
    const document = sidecarConfigDocument(booking) as Record<string, unknown>;

    it("is a SidecarConfig of schema version 1 naming its policy, with no CRD apiVersion", () => {
      expect(document).toMatchObject({
        kind: "SidecarConfig",
        schemaVersion: 1,
        policy: { namespace: "shop", name: "booking-api" },
      });
      expect(document).not.toHaveProperty("apiVersion");
      expect(document).not.toHaveProperty("metadata");
    });

    it("leaves out the fields only the operator reads", () => {
      const spec = document.spec as Record<string, Record<string, unknown>>;
      expect(spec).not.toHaveProperty("selector");
      expect(spec).not.toHaveProperty("sidecar");
      expect(spec.upstream).toEqual({ timeout: "10s" });
      expect(spec.store).toEqual({
        redis: { keyPrefix: "shop/booking-api", commandTimeout: "50ms" },
        memory: { maxBytes: "64Mi", maxEntryAge: "5m" },
      });
    });

    it("carries the generation on the revision line and names no CRD version anywhere", () => {
      const text = renderSidecarConfig(withResources, "Rendered by a test. Do not edit.");
      expect(text.startsWith("# Rendered by a test. Do not edit.\n# apicache.io/revision: 4\n")).toBe(true);
      expect(policyRevision(text)).toBe(4);
      expect(text).not.toContain("apicache.io/v1");
    });

    it.each(valid.map((example) => example.file))(
      "reads back %s as the same policy as the manifest itself",
      (file) => {
        const manifest = parseCachePolicyText(valid.find((example) => example.file === file)?.text ?? "");
        if (!manifest.ok) throw new Error(`${file} is invalid`);
        const read = parseSidecarConfigText(renderSidecarConfig(manifest.policy));
        expect(read).toEqual({
          ok: true,
          policy: sidecarPolicyOf(manifest.policy),
          format: "SidecarConfig 1",
        });
      },
    );
  });

  describe("when the sidecar reads a CachePolicy manifest (a laptop's file, an older operator's ConfigMap)", () => {
    it("accepts the CRD version it knows, as the same policy", () => {
      const text = valid.find((example) => example.file === "booking-api.yaml")?.text ?? "";
      expect(parseSidecarConfigText(text)).toEqual({
        ok: true,
        policy: sidecarPolicyOf(booking),
        format: "CachePolicy apicache.io/v1alpha1",
      });
    });

    it("calls another version of the CachePolicy API unsupported, naming the one it reads", () => {
      const result = parseSidecarConfig({
        ...parseYaml(valid[0]?.text ?? ""),
        apiVersion: "apicache.io/v1beta1",
      });
      expect(result).toMatchObject({ ok: false, unsupported: true, problems: [{ path: "apiVersion" }] });
      expect(result.ok || result.problems[0]?.message).toContain("(apicache.io/v1alpha1)");
    });

    it("reports a misspelt apiVersion as invalid, not as a version it could read some day", () => {
      const result = parseSidecarConfig({
        ...parseYaml(valid[0]?.text ?? ""),
        apiVersion: "apicache.io/v1alhpa1",
      });
      expect(result).toMatchObject({ ok: false, unsupported: false, problems: [{ path: "apiVersion" }] });
    });
  });

  describe("the schema version", () => {
    const spec = { routes: [{ name: "a", path: "/a" }] };

    it.each([
      { schemaVersion: 2, why: "newer" },
      { schemaVersion: 17, why: "much newer" },
    ])("calls schemaVersion $schemaVersion ($why) unsupported, saying what to do", ({ schemaVersion }) => {
      const result = parseSidecarConfig(config(spec, { schemaVersion, whatever: { new: "field" } }));
      expect(result).toMatchObject({ ok: false, unsupported: true, problems: [{ path: "schemaVersion" }] });
      expect(result.ok || result.problems[0]?.message).toContain(
        `SidecarConfig schemaVersion ${schemaVersion} is not one this sidecar reads (1)`,
      );
      expect(result.ok || result.problems[0]?.message).toContain("recreate the pod");
    });

    it.each([0, -1, 1.5, "1", null, undefined])("calls schemaVersion %j invalid", (schemaVersion) => {
      expect(parseSidecarConfig(config(spec, { schemaVersion }))).toMatchObject({
        ok: false,
        unsupported: false,
        problems: [{ path: "schemaVersion", message: "must be a positive integer" }],
      });
    });
  });

  describe("a SidecarConfig of schema version 1", () => {
    it("fills the defaults a hand-written one leaves out", () => {
      const result = parseSidecarConfig(config({ routes: [{ name: "a", path: "/a" }] }));
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      expect(result.policy.spec).toMatchObject({
        mode: "Enforce",
        upstream: { timeout: "30s" },
        store: { memory: { maxBytes: "64Mi", maxEntryAge: "5m" } },
        routes: [{ name: "a", ttl: "5m", methods: ["GET", "HEAD"], key: { query: [], headers: [] } }],
      });
    });

    it.each([
      {
        what: "an apiVersion",
        document: config({}, { apiVersion: "apicache.io/v1alpha1" }),
        path: "apiVersion",
      },
      {
        what: "a selector",
        document: config({ selector: { matchLabels: { a: "b" } } }),
        path: "spec.selector",
      },
      { what: "upstream.port", document: config({ upstream: { port: 8080 } }), path: "spec.upstream.port" },
      { what: "no policy", document: { kind: "SidecarConfig", schemaVersion: 1, spec: {} }, path: "policy" },
    ])("rejects $what: it is not part of the sidecar's schema", ({ document, path }) => {
      const result = parseSidecarConfig(document);
      expect(result).toMatchObject({ ok: false, unsupported: false });
      expect(result.ok || result.problems.map((problem) => problem.path)).toContain(path);
    });

    // The manifest's own checks, through the SidecarConfig: the same path and message for every
    // invalid example whose problem lies in what the sidecar reads.
    const sidecarProblems = examples.filter(
      (example) =>
        example.kind !== "valid" &&
        !/^spec\.(selector|upstream\.port)/.test(example.expectPath ?? "") &&
        example.expectPath !== undefined,
    );

    it("has invalid examples to check", () => {
      expect(sidecarProblems.length).toBeGreaterThanOrEqual(10);
    });

    it.each(sidecarProblems.map((example) => [example.file, example] as const))(
      "finds the problem of %s",
      (_file, example) => {
        const {
          selector: _selector,
          upstream,
          ...spec
        } = (parseYaml(example.text) as { spec: Record<string, unknown> }).spec as Record<string, unknown> & {
          upstream?: { timeout?: string };
        };
        const store = spec.store as { redis?: Record<string, unknown> } | undefined;
        if (store?.redis) delete store.redis.urlSecretRef;
        const timeout = upstream?.timeout === undefined ? {} : { upstream: { timeout: upstream.timeout } };
        const result = parseSidecarConfig(config({ ...spec, ...timeout }));
        expect(result).toMatchObject({ ok: false, unsupported: false });
        const problem = result.ok ? undefined : result.problems.find((p) => p.path === example.expectPath);
        expect(problem?.message).toContain(example.expectMessage);
      },
    );
  });

  it("does not read a document that is no policy at all", () => {
    expect(parseSidecarConfigText("- a\n- b\n")).toMatchObject({ ok: false, unsupported: false });
    expect(parseSidecarConfigText("{ not: [yaml")).toMatchObject({ ok: false, unsupported: false });
    expect(parseSidecarConfig({ apiVersion: "v1", kind: "ConfigMap" })).toMatchObject({
      ok: false,
      unsupported: false,
    });
  });

  // Schema version 1 is frozen (docs/adr/0014-api-evolution.md): once a sidecar reads it, a field added,
  // removed, retyped or given new enum values would make an older sidecar refuse, or misread, what a
  // newer operator writes. Descriptions, examples, patterns and bounds may change; the shape may not.
  it("keeps the shape of schema version 1", () => {
    const fingerprint = createHash("sha256")
      .update(JSON.stringify(shape(SidecarConfigV1Schema)))
      .digest("hex");
    expect(
      fingerprint,
      "SidecarConfig schemaVersion 1 changed shape. A field only the operator reads: leave it out of the " +
        "sidecar's spec (sidecar-config.ts). A field the sidecar applies: add schemaVersion 2 (the sidecar " +
        "reads 1 and 2; the operator writes 2 only for a policy that uses it), as ADR 0014 says.",
    ).toBe("13017f8c772b2327574d93f0b1e3ee8eab0ad43eec522272e5dfccb175537964");
  });
});

/** Types, properties, required fields and allowed values of a JSON Schema: what a reader must know. */
function shape(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(shape);
  if (typeof node !== "object" || node === null) return node;
  const kept: Record<string, unknown> = {};
  const fields = [
    "type",
    "properties",
    "required",
    "items",
    "anyOf",
    "enum",
    "const",
    "additionalProperties",
  ];
  for (const field of fields) {
    const value = (node as Record<string, unknown>)[field];
    if (value === undefined) continue;
    kept[field] =
      field === "properties"
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, child]) => [name, shape(child)]),
          )
        : shape(value);
  }
  return kept;
}
