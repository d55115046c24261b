import { OPERATOR_METRICS } from "@apicache/operator/telemetry/metric-names";
import { SIDECAR_METRICS } from "@apicache/sidecar/telemetry/metric-names";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { alertExpr, alertRules } from "./alerts.js";
import { dashboardExpressions, ruleExpressions } from "./expressions.js";
import { generatedMonitoringFiles } from "./index.js";
import { formatJson } from "./json-format.js";
import { R, recordingRules } from "./recording-rules.js";
import { ruleGroups, rulesYaml } from "./rules.js";

const defined = new Map<string, string>(
  [...Object.values(SIDECAR_METRICS), ...Object.values(OPERATOR_METRICS)].map((m) => [m.name, m.type]),
);
const recorded = new Set(recordingRules().map((r) => r.record));

/** Metric names an expression reads: `apicache_…` (raw) and `apicache:…` (recorded). */
function metricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  return [...withoutStrings.matchAll(/\bapicache[_:][a-z0-9_:]+/g)].map((m) => m[0]);
}

function isDefined(name: string): boolean {
  if (recorded.has(name)) return true;
  if (defined.has(name)) return defined.get(name) !== "histogram";
  const histogram = /^(.*)_(bucket|sum|count)$/.exec(name);
  return histogram?.[1] !== undefined && defined.get(histogram[1]) === "histogram";
}

describe("the generated dashboard and rules", () => {
  const expressions = [...dashboardExpressions(), ...ruleExpressions()];

  it("read only metrics the programs define, or series the recording rules record", () => {
    const unknown = expressions.flatMap((e) =>
      metricsIn(e.expr)
        .filter((n) => !isDefined(n))
        .map((n) => `${e.source}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });

  it("use every metric the programs define somewhere", () => {
    const used = new Set(
      expressions.flatMap((e) => metricsIn(e.expr)).map((n) => n.replace(/_(bucket|sum|count)$/, "")),
    );
    expect([...defined.keys()].filter((name) => !used.has(name))).toEqual([]);
  });

  it("show the improvement and hit ratio per route on the dashboard, from the recording rules", () => {
    const dashboard = dashboardExpressions().map((e) => e.expr);
    for (const series of [R.improvement, R.hitRatio]) {
      expect(dashboard.some((expr) => expr.startsWith(series))).toBe(true);
    }
  });

  it("compute the headline stats over the dashboard's time range, not the last 5 minutes (ADR 0026)", () => {
    const headline = dashboardExpressions().filter((e) =>
      ["Improvement", "Hit ratio", "Upstream requests saved"].some((t) => e.source === `dashboard: ${t} #A`),
    );
    expect(headline).toHaveLength(3);
    for (const e of headline) {
      expect(e.expr, e.source).toContain("[$__range]");
      expect(e.expr, e.source).not.toContain(":rate5m");
    }
  });

  it("record each series once, before any rule reads it (a rule may read its own past values)", () => {
    const seen = new Set<string>();
    for (const rule of recordingRules()) {
      const ownPast = rule.expr.includes(`last_over_time(${rule.record}[`);
      for (const name of metricsIn(rule.expr).filter((n) => n.includes(":"))) {
        if (ownPast && name === rule.record) continue;
        expect(seen, rule.record).toContain(name);
      }
      expect(seen.has(rule.record)).toBe(false);
      seen.add(rule.record);
    }
  });
});

describe("alerts", () => {
  it("have unique names, a severity and a duration", () => {
    const names = alertRules().map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const alert of alertRules()) expect(alert.for).toMatch(/^[0-9]+[smh]$/);
  });

  it.each([
    [{ value: "x", comparison: "> 1", guard: undefined }, "x > 1"],
    [{ value: "x", comparison: "< 0.5", guard: "y > 0.5" }, "(x < 0.5) and y > 0.5"],
  ])("compose value, comparison and guard: %j", (parts, expr) => {
    const rule = { ...alertRules()[0], ...parts } as Parameters<typeof alertExpr>[0];
    expect(alertExpr(rule)).toBe(expr);
  });

  it("take a shorter `for` for tests without changing anything else", () => {
    const normal = ruleGroups();
    const short = ruleGroups({ alertFor: "1s" });
    const strip = (groups: typeof normal) => JSON.stringify(groups).replace(/"for":"[^"]*"/g, "");
    expect(strip(short)).toBe(strip(normal));
    expect(JSON.stringify(short)).not.toBe(JSON.stringify(normal));
  });
});

describe("the rule file", () => {
  it("parses back to the rule groups (comments only add explanations)", () => {
    expect(parse(rulesYaml())).toEqual({ groups: ruleGroups() });
    expect(rulesYaml()).toContain("# 1 − served mean / upstream mean");
  });
});

describe("formatJson", () => {
  it.each([
    [{ a: [1, 2] }, '{\n  "a": [1, 2]\n}\n'],
    [{ a: [] as number[], b: {} }, '{\n  "a": [],\n  "b": {}\n}\n'],
    [{ a: [{ b: 1 }] }, '{\n  "a": [\n    {\n      "b": 1\n    }\n  ]\n}\n'],
    [{ a: ["x".repeat(120)] }, `{\n  "a": [\n    "${"x".repeat(120)}"\n  ]\n}\n`],
  ])("formats %j as Biome does", (value, text) => {
    expect(formatJson(value)).toBe(text);
  });
});

describe("generatedMonitoringFiles", () => {
  it("lists the committed files and the chart copies, copies identical", () => {
    const files = new Map(generatedMonitoringFiles().map((f) => [f.path, f.content]));
    expect([...files.keys()].sort()).toEqual([
      "charts/apicache/dashboards/apicache.json",
      "charts/apicache/files/rules.yaml",
      "monitoring/generated/apicache-dashboard.json",
      "monitoring/generated/apicache-rules.yaml",
    ]);
    expect(files.get("charts/apicache/dashboards/apicache.json")).toBe(
      files.get("monitoring/generated/apicache-dashboard.json"),
    );
    expect(files.get("charts/apicache/files/rules.yaml")).toBe(
      files.get("monitoring/generated/apicache-rules.yaml"),
    );
  });
});
