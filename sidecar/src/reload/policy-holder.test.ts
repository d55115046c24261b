import { parseCachePolicyText, revisionLine } from "@apicache/crds";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../routing/compile-policy.js";
import { createMetrics } from "../telemetry/metrics.js";
import { PolicyHolder } from "./policy-holder.js";

const text = (mode: string, revision?: number) =>
  (revision === undefined ? "" : revisionLine(revision)) +
  JSON.stringify({
    apiVersion: "apicache.io/v1alpha1",
    kind: "CachePolicy",
    metadata: { name: "api", namespace: "shop" },
    spec: { selector: { matchLabels: { app: "api" } }, upstream: { port: 8080 }, mode },
  });

function holder(initial: string): PolicyHolder {
  const parsed = parseCachePolicyText(initial);
  if (!parsed.ok) throw new Error("fixture invalid");
  return new PolicyHolder(compilePolicy(parsed.policy, initial), createMetrics(), pino({ level: "silent" }));
}

describe("the policy holder", () => {
  it("applies a newer revision and ignores an older one that arrives later", () => {
    const policies = holder(text("Enforce", 3));
    expect(policies.apply(text("Shadow", 5), "configmap").ok).toBe(true);
    expect(policies.current).toMatchObject({ mode: "Shadow", revision: 5 });
    // The mounted volume lags the API watch: revision 4 shows up after 5.
    expect(policies.apply(text("Enforce", 4), "file")).toMatchObject({ ok: true, changed: false });
    expect(policies.current).toMatchObject({ mode: "Shadow", revision: 5 });
  });

  it("applies texts without a revision (hand-written files) as they come", () => {
    const policies = holder(text("Enforce", 3));
    expect(policies.apply(text("Shadow"), "file")).toMatchObject({ ok: true, changed: true });
    expect(policies.current.mode).toBe("Shadow");
    expect(policies.apply(text("Off", 1), "configmap")).toMatchObject({ ok: true, changed: true });
    expect(policies.current.mode).toBe("Off");
  });
});
