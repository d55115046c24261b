import { Writable } from "node:stream";
import { parseCachePolicyText, renderSidecarConfig, revisionLine } from "@apicache/crds";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createMetrics, type SidecarMetrics } from "../telemetry/metrics.js";
import { PolicyHolder } from "./policy-holder.js";
import { readConfig } from "./read-config.js";

const manifest = (mode: string) => ({
  apiVersion: "apicache.io/v1alpha1",
  kind: "CachePolicy",
  metadata: { name: "api", namespace: "shop" },
  spec: { selector: { matchLabels: { app: "api" } }, upstream: { port: 8080 }, mode },
});

const text = (mode: string, revision?: number) =>
  (revision === undefined ? "" : revisionLine(revision)) + JSON.stringify(manifest(mode));

/** What the operator writes for the same policy: a SidecarConfig. */
function rendered(mode: string, revision: number): string {
  const parsed = parseCachePolicyText(
    JSON.stringify({ ...manifest(mode), metadata: { ...manifest(mode).metadata, generation: revision } }),
  );
  if (!parsed.ok) throw new Error("fixture invalid");
  return renderSidecarConfig(parsed.policy);
}

/** A SidecarConfig of a schema version a later release may write. */
const newer = (revision: number) =>
  `${revisionLine(revision)}kind: SidecarConfig\nschemaVersion: 2\npolicy: { namespace: shop, name: api }\nspec: { mode: Off, routes: [], somethingNew: { a: 1 } }\n`;

function holder(initial: string): {
  policies: PolicyHolder;
  metrics: SidecarMetrics;
  logs: Record<string, unknown>[];
} {
  const read = readConfig(initial);
  if (!read.ok) throw new Error("fixture invalid");
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const metrics = createMetrics();
  const policies = new PolicyHolder(read.policy, metrics, pino({ level: "info" }, sink));
  return { policies, metrics, logs };
}

async function failures(metrics: SidecarMetrics): Promise<number> {
  const metric = await metrics.configReloads.get();
  return metric.values.find((value) => value.labels.result === "failure")?.value ?? 0;
}

describe("the policy holder", () => {
  it("applies a newer revision and ignores an older one that arrives later", () => {
    const { policies } = holder(text("Enforce", 3));
    expect(policies.apply(text("Shadow", 5), "configmap").ok).toBe(true);
    expect(policies.current).toMatchObject({ mode: "Shadow", revision: 5 });
    // The mounted volume lags the API watch: revision 4 shows up after 5.
    expect(policies.apply(text("Enforce", 4), "file")).toMatchObject({ ok: true, changed: false });
    expect(policies.current).toMatchObject({ mode: "Shadow", revision: 5 });
  });

  it("applies texts without a revision (hand-written files) as they come", () => {
    const { policies } = holder(text("Enforce", 3));
    expect(policies.apply(text("Shadow"), "file")).toMatchObject({ ok: true, changed: true });
    expect(policies.current.mode).toBe("Shadow");
    expect(policies.apply(text("Off", 1), "configmap")).toMatchObject({ ok: true, changed: true });
    expect(policies.current.mode).toBe("Off");
  });

  describe("with the operator's SidecarConfig", () => {
    it("applies it, and logs which format it read", () => {
      const { policies, logs } = holder(text("Enforce", 3));
      expect(policies.apply(rendered("Shadow", 4), "configmap")).toMatchObject({ ok: true, changed: true });
      expect(policies.current).toMatchObject({ mode: "Shadow", revision: 4, label: "shop/api" });
      expect(logs.find((line) => line.msg === "policy reloaded")).toMatchObject({
        format: "SidecarConfig 1",
      });
    });

    it("goes back to a CachePolicy manifest (an operator rolled back to before SidecarConfig)", () => {
      const { policies, logs } = holder(rendered("Shadow", 4));
      expect(policies.apply(text("Off", 5), "configmap")).toMatchObject({ ok: true, changed: true });
      expect(policies.current).toMatchObject({ mode: "Off", revision: 5 });
      expect(logs.find((line) => line.msg === "policy reloaded")).toMatchObject({
        format: "CachePolicy apicache.io/v1alpha1",
      });
    });
  });

  describe("when a configuration of a version this sidecar does not read arrives", () => {
    it("keeps the policy in effect and reports it once, under its own code", async () => {
      const { policies, metrics, logs } = holder(rendered("Enforce", 3));
      const before = policies.current;
      expect(policies.apply(newer(4), "configmap shop/apicache-api")).toMatchObject({
        ok: false,
        code: "APICACHE_ERR_UNSUPPORTED_CONFIG_VERSION",
      });
      expect(policies.current).toBe(before);
      expect(await failures(metrics)).toBe(1);
      const line = logs.find((l) => l.code === "APICACHE_ERR_UNSUPPORTED_CONFIG_VERSION");
      expect(line).toMatchObject({
        level: 50,
        origin: "configmap shop/apicache-api",
        configHash: before.hash,
      });
      expect(String(line?.msg)).toContain("SidecarConfig schemaVersion 2 is not one this sidecar reads (1)");
      expect(String(line?.msg)).toContain("keeping the last good one");
    });

    it("still applies a later configuration it reads", () => {
      const { policies } = holder(rendered("Enforce", 3));
      policies.apply(newer(4), "configmap");
      expect(policies.apply(rendered("Off", 5), "configmap")).toMatchObject({ ok: true, changed: true });
      expect(policies.current).toMatchObject({ mode: "Off", revision: 5 });
    });

    it("says APICACHE_ERR_INVALID_POLICY, not unsupported, for a bad configuration of a version it reads", () => {
      const { policies } = holder(rendered("Enforce", 3));
      const bad = rendered("Enforce", 4).replace("mode: Enforce", "mode: Sometimes");
      expect(policies.apply(bad, "file")).toMatchObject({
        ok: false,
        code: "APICACHE_ERR_INVALID_POLICY",
        problems: [{ path: "spec.mode" }],
      });
    });
  });
});
