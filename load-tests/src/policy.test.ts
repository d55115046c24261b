import { readFileSync } from "node:fs";
import { type CachePolicy, type PathTemplate, parseCachePolicyText, parsePathTemplate } from "@apicache/crds";
import { describe, expect, it } from "vitest";
import { loadScenario, scenarioNames } from "./scenario-files.js";

const POLICY = new URL("../policies/demo.yaml", import.meta.url);

function policy(): CachePolicy {
  const result = parseCachePolicyText(readFileSync(POLICY, "utf8"));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.policy;
}

function matches(template: string, path: string): boolean {
  const parsed = parsePathTemplate(template);
  if (!parsed.ok) return false;
  const segments = path.split("?")[0]?.split("/").slice(1) ?? [];
  const t: PathTemplate = parsed.template;
  for (const [i, segment] of t.segments.entries()) {
    if (segment.kind === "rest") return true;
    const actual = segments[i];
    if (actual === undefined) return false;
    if (segment.kind === "literal" && segment.value !== actual) return false;
  }
  return segments.length === t.segments.length;
}

describe("load-tests/policies/demo.yaml", () => {
  it("is a valid CachePolicy", () => {
    expect(parseCachePolicyText(readFileSync(POLICY, "utf8"))).toMatchObject({ ok: true });
  });

  it("mirrors the platform's TTL classes", () => {
    const ttl = Object.fromEntries(policy().spec.routes.map((r) => [r.name, r.ttl]));
    expect(ttl).toEqual({
      "available-slots": "5m",
      "business-analytics": "30m",
      dashboard: "15m",
      "user-profile": "5m",
      "service-catalog": "1h",
    });
  });

  it("keys dashboards per user", () => {
    expect(policy().spec.routes.find((r) => r.name === "dashboard")?.key.scope).toBe("PerUser");
  });

  it.each(scenarioNames())("caches every read of scenario %s", (name) => {
    for (const read of loadScenario(name).reads) {
      const route = policy().spec.routes.find((r) => matches(r.path, read.path.replace(/\{[^}]+\}/g, "1")));
      expect(route, read.path).toBeDefined();
    }
  });

  it.each(scenarioNames())("invalidates on every write of scenario %s", (name) => {
    for (const write of loadScenario(name).writes) {
      const rule = policy().spec.invalidate.find(
        (r) =>
          r.methods.includes(write.method as never) && matches(r.path, write.path.replace(/\{[^}]+\}/g, "1")),
      );
      expect(rule, `${write.method} ${write.path}`).toBeDefined();
    }
  });

  it.each([
    ["appointment-booked", ["barber:{barberId}", "dashboard"]],
    ["appointment-written", ["slots", "dashboard"]],
    ["payment-recorded", ["analytics", "revenue"]],
    ["user-updated", ["user:{userId}"]],
    ["service-updated", ["catalog", "pricing"]],
  ])("rule %s drops %j", (rule, tags) => {
    expect(policy().spec.invalidate.find((r) => r.name === rule)?.tags).toEqual(tags);
  });
});
