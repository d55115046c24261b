import { describe, expect, it } from "vitest";
import { loadExamples } from "./examples.js";
import { parseCachePolicy, parseCachePolicyText } from "./parse.js";

const examples = loadExamples();
const valid = examples.filter((e) => e.kind === "valid");
const invalid = examples.filter((e) => e.kind !== "valid");

const minimal = () => ({
  apiVersion: "apicache.io/v1alpha1",
  kind: "CachePolicy",
  metadata: { name: "catalog", namespace: "shop" },
  spec: {
    selector: { matchLabels: { app: "catalog" } },
    upstream: { port: "http" },
    routes: [{ name: "services", path: "/api/v2/services" }] as Record<string, unknown>[],
  } as Record<string, unknown>,
});

describe("parseCachePolicy", () => {
  describe("with the example manifests", () => {
    it("has valid and invalid examples to check", () => {
      expect(valid.length).toBeGreaterThanOrEqual(2);
      expect(invalid.length).toBeGreaterThanOrEqual(8);
    });

    it.each(valid.map((e) => [e.file, e]))("accepts %s", (_file, example) => {
      const result = parseCachePolicyText(example.text);
      expect(result.ok ? [] : result.problems).toEqual([]);
    });

    it.each(invalid.map((e) => [e.file, e]))(
      "rejects %s with the expected path and message",
      (_file, example) => {
        expect(example.expectPath, "the example names its expected field path").toBeDefined();
        expect(example.expectMessage, "the example names its expected message").toBeDefined();
        const result = parseCachePolicyText(example.text);
        expect(result.ok).toBe(false);
        const problems = result.ok ? [] : result.problems;
        expect(problems).toContainEqual({
          path: example.expectPath,
          message: expect.stringContaining(example.expectMessage as string),
        });
      },
    );
  });

  describe("when the input is not a policy at all", () => {
    it.each([
      ["null", null],
      ["a string", "CachePolicy"],
      ["a list", []],
    ])("rejects %s without throwing", (_name, input) => {
      expect(parseCachePolicy(input)).toEqual({
        ok: false,
        problems: [{ path: "", message: "a CachePolicy must be an object" }],
      });
    });

    it("reports broken YAML as one problem", () => {
      const result = parseCachePolicyText("spec: [unclosed");
      expect(result.ok).toBe(false);
      expect(result.ok ? "" : result.problems[0]?.message).toMatch(/^not valid YAML or JSON/);
    });
  });

  describe("when several things are wrong", () => {
    it("reports every problem, each with its own path", () => {
      const input = minimal();
      input.spec.mode = "Sometimes";
      input.spec.routes = [{ name: "Bad Name", path: "/x", ttl: "forever" }];
      const result = parseCachePolicy(input);
      const paths = result.ok ? [] : result.problems.map((p) => p.path);
      expect(paths).toEqual(
        expect.arrayContaining(["spec.mode", "spec.routes[0].name", "spec.routes[0].ttl"]),
      );
    });
  });

  describe("when the policy is valid", () => {
    it("applies every default", () => {
      const result = parseCachePolicy(minimal());
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      const { spec } = result.policy;
      expect(spec.mode).toBe("Enforce");
      expect(spec.upstream.timeout).toBe("30s");
      expect(spec.store).toEqual({ memory: { maxBytes: "64Mi", maxEntryAge: "5m" } });
      expect(spec.identity).toEqual({ headers: [] });
      expect(spec.defaults).toMatchObject({ ttl: "5m", staleWhileRevalidate: "30s", staleIfError: "10m" });
      expect(spec.routes[0]).toMatchObject({
        methods: ["GET", "HEAD"],
        ttl: "5m",
        ttlFrom: "Policy",
        negativeTtl: "10s",
        key: { query: [], headers: [], scope: "Public" },
        tags: [],
      });
      expect(spec.invalidate).toEqual([]);
      expect(spec.warm).toEqual([]);
    });

    it("lets a route override the defaults and inherits the rest", () => {
      const input = minimal();
      input.spec.defaults = { ttl: "10m", staleIfError: "1h" };
      input.spec.routes = [{ name: "services", path: "/s", ttl: "1h" }];
      const result = parseCachePolicy(input);
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      expect(result.policy.spec.routes[0]).toMatchObject({ ttl: "1h", staleIfError: "1h" });
    });

    it("defaults the Redis key prefix to <namespace>/<name>", () => {
      const input = minimal();
      input.spec.store = { redis: { urlSecretRef: { name: "redis", key: "url" } } };
      const result = parseCachePolicy(input);
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      expect(result.policy.spec.store.redis).toMatchObject({
        keyPrefix: "shop/catalog",
        commandTimeout: "50ms",
      });
    });

    it("does not modify its input", () => {
      const input = minimal();
      const before = structuredClone(input);
      parseCachePolicy(input);
      expect(input).toEqual(before);
    });
  });
});

describe("upstream.port", () => {
  const withPort = (port: unknown) => {
    const policy = minimal();
    policy.spec.upstream = { port };
    return parseCachePolicy(policy);
  };

  it.each([["http"], ["http-app"], ["8080x"], ["a1-b2-c3"], ["abcdefghijklmno"], [1], [8080], [65535]])(
    "accepts %j",
    (port) => {
      expect(withPort(port).ok).toBe(true);
    },
  );

  it.each([
    ["1234", "should match"],
    ["-http", "should match"],
    ["http-", "should match"],
    ["ht--tp", "should match"],
    ["HTTP", "should match"],
    ["abcdefghijklmnop", "may not be longer than 15"],
    [0, "should be greater than or equal to 1"],
    [65536, "should be less than or equal to 65535"],
  ])("rejects %j like the API server does (%s)", (port, message) => {
    const result = withPort(port);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems).toContainEqual({
        path: "spec.upstream.port",
        message: expect.stringContaining(message),
      });
    }
  });
});

describe("spec.sidecar.resources", () => {
  const withResources = (resources: unknown) => {
    const manifest = minimal();
    manifest.spec.sidecar = { resources };
    return parseCachePolicy(manifest);
  };

  it("keeps requests and limits written as Kubernetes quantities", () => {
    const resources = { requests: { cpu: "100m", memory: "96Mi" }, limits: { cpu: 1, memory: "1Gi" } };
    const result = withResources(resources);
    expect(result.ok && result.policy.spec.sidecar).toEqual({ resources });
  });

  it.each([
    ["a malformed quantity", { limits: { cpu: "half" } }],
    ["a negative quantity", { requests: { memory: -1 } }],
    ["a resource other than cpu and memory", { limits: { "nvidia.com/gpu": "1" } }],
  ])("rejects %s", (_what, resources) => {
    expect(withResources(resources).ok).toBe(false);
  });

  it("is absent from the normalized policy when not set", () => {
    const result = parseCachePolicy(minimal());
    expect(result.ok && result.policy.spec.sidecar).toBeUndefined();
  });
});
