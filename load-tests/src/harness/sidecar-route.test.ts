import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePolicyText, NO_ROUTE, policyRoutes, sidecarRoute } from "./sidecar-route.js";

const DEMO = readFileSync(join(import.meta.dirname, "../../policies/demo.yaml"), "utf8");

const policy = (routes: string, mode = "Enforce") =>
  compilePolicyText(`
apiVersion: apicache.io/v1alpha1
kind: CachePolicy
metadata: { name: t, namespace: bench }
spec:
  selector: { matchLabels: { app: t } }
  upstream: { port: http }
  mode: ${mode}
  defaults: { ttl: 5m }
  routes:
${routes}
`);

describe("the route the sidecar labels a request with", () => {
  describe("the demo policy, with the mixed scenario's requests", () => {
    const route = policyRoutes(DEMO);

    it.each([
      ["GET", "/api/v2/barbers/3/slots?date=2026-12-08", "available-slots"],
      ["GET", "/api/v2/analytics/revenue?range=30d", "business-analytics"],
      ["GET", "/api/v2/dashboard", "dashboard"],
      ["GET", "/api/v2/users/7/profile", "user-profile"],
      ["GET", "/api/v2/services", "service-catalog"],
    ])("a read: %s %s is %s", (method, target, name) => {
      expect(route(method, target)).toBe(name);
    });

    it("labels a write to a route's own path with that route (update-profile)", () => {
      expect(route("PUT", "/api/v2/users/7/profile")).toBe("user-profile");
    });

    it.each([
      ["PUT", "/api/v2/barbers/3/availability"],
      ["PUT", "/api/v2/services/12"],
      ["POST", "/api/v2/appointments"],
      ["DELETE", "/api/v2/appointments/41"],
      ["POST", "/api/v2/payments"],
    ])("labels a write no route's path matches none: %s %s", (method, target) => {
      expect(route(method, target)).toBe(NO_ROUTE);
    });

    it("matches the normalized path, without the query", () => {
      expect(route("GET", "/api/v2//users/./7/profile?x=1")).toBe("user-profile");
      expect(route("GET", "/api/v2/users/7/profile/extra")).toBe(NO_ROUTE);
    });
  });

  describe("methods", () => {
    // `first` caches HEAD only: a GET skips it for `second`, whose path is the same.
    const twoRoutes = policy(`
    - { name: first, path: /a/:id, methods: [HEAD] }
    - { name: second, path: /a/:id }`);

    it("a read takes the first route that caches its method", () => {
      expect(sidecarRoute(twoRoutes, "GET", "/a/1")).toBe("second");
      expect(sidecarRoute(twoRoutes, "HEAD", "/a/1")).toBe("first");
    });

    it("a write takes the first route whose path matches, whatever the route's methods", () => {
      expect(sidecarRoute(twoRoutes, "PUT", "/a/1")).toBe("first");
      expect(sidecarRoute(twoRoutes, "DELETE", "/a/1")).toBe("first");
    });

    it("a read no route caches is labelled with the first route whose path matches", () => {
      const headOnly = policy("    - { name: only, path: /a/:id, methods: [HEAD] }");
      expect(sidecarRoute(headOnly, "GET", "/a/1")).toBe("only");
    });

    it("OPTIONS and TRACE are not cached and not routed", () => {
      expect(sidecarRoute(twoRoutes, "OPTIONS", "/a/1")).toBe(NO_ROUTE);
      expect(sidecarRoute(twoRoutes, "TRACE", "/a/1")).toBe(NO_ROUTE);
    });

    it("with the mode Off a read is not routed, a write still is", () => {
      const off = policy("    - { name: r, path: /a/:id }", "Off");
      expect(sidecarRoute(off, "GET", "/a/1")).toBe(NO_ROUTE);
      expect(sidecarRoute(off, "PUT", "/a/1")).toBe("r");
    });
  });

  it("refuses a policy that does not parse", () => {
    expect(() => compilePolicyText("kind: CachePolicy\nspec: {}\n")).toThrow(/does not parse/);
  });
});
