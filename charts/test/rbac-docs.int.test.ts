// The RBAC table in docs/operator.md ("RBAC the operator uses") against the chart's rendered
// ClusterRole and Role (real helm), rule by rule, in both certificate modes.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type K8sObject, template } from "./helm.js";

const DOC = fileURLToPath(new URL("../../docs/operator.md", import.meta.url));
const SECTION = "## RBAC the operator uses";
/** A release whose full name differs from the chart name, so `<release>` is really substituted. */
const RELEASE = "demo";
const FULLNAME = "demo-apicache";
const SELF_MANAGED_ONLY = ", self-managed mode";

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly resourceNames?: string[];
  readonly verbs: string[];
}

/** One rule as a comparable line: `Role | coordination.k8s.io | leases | demo-apicache-leader | get, update`. */
function line(kind: string, rule: Rule): string {
  const group = rule.apiGroups.map((g) => (g === "" ? '""' : g)).join(", ");
  const names = rule.resourceNames?.join(", ") ?? "all";
  return [kind, group, rule.resources.join(", "), names, rule.verbs.join(", ")].join(" | ");
}

function chartRules(objects: readonly K8sObject[]): string[] {
  return objects
    .filter((o) => o.kind === "ClusterRole" || o.kind === "Role")
    .flatMap((o) => (o as unknown as { rules: Rule[] }).rules.map((rule) => line(o.kind, rule)))
    .sort();
}

interface DocRow {
  readonly role: string;
  readonly cells: readonly string[];
}

/** The table rows of the section: role, API group, resource, names, verbs (why is not compared). */
function docRows(markdown: string): DocRow[] {
  const start = markdown.indexOf(SECTION);
  if (start < 0) throw new Error(`docs/operator.md has no "${SECTION}" section`);
  const end = markdown.indexOf("\n## ", start + SECTION.length);
  const rows = markdown
    .slice(start, end < 0 ? undefined : end)
    .split("\n")
    .filter((l) => l.startsWith("|"))
    .map((l) =>
      l
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim().replaceAll("`", "").replaceAll("<release>", FULLNAME)),
    )
    .slice(2); // the header and its separator
  return rows.map((cells) => ({ role: cells[0] ?? "", cells: cells.slice(0, 5) }));
}

/** The rows that apply in a mode, as lines comparable with chartRules(). */
function documented(rows: readonly DocRow[], mode: "self-managed" | "cert-manager"): string[] {
  return rows
    .filter((row) => mode === "self-managed" || !row.role.endsWith(SELF_MANAGED_ONLY))
    .map((row) => [row.role.replace(SELF_MANAGED_ONLY, ""), ...row.cells.slice(1)].join(" | "))
    .sort();
}

describe("the RBAC table in docs/operator.md", () => {
  const rows = docRows(readFileSync(DOC, "utf8"));

  it("has a row per rule, each with a reason", () => {
    expect(rows.length).toBeGreaterThan(0);
    const markdown = readFileSync(DOC, "utf8");
    const body = markdown
      .slice(markdown.indexOf(SECTION))
      .split("\n")
      .filter((l) => l.startsWith("|"));
    for (const row of body.slice(2)) expect(row.split("|").at(-2)?.trim(), row).not.toBe("");
  });

  it.each(["self-managed", "cert-manager"] as const)(
    "lists exactly the rules the chart renders in %s mode",
    async (mode) => {
      const objects = await template("helm4", { "webhook.certificate.mode": mode }, { release: RELEASE });
      const chart = chartRules(objects);
      const docs = documented(rows, mode);
      const undocumented = chart
        .filter((rule) => !docs.includes(rule))
        .map((r) => `granted, not in the docs: ${r}`);
      const stale = docs.filter((rule) => !chart.includes(rule)).map((r) => `in the docs, not granted: ${r}`);
      expect(
        [...undocumented, ...stale],
        "make docs/operator.md's RBAC table match templates/rbac.yaml",
      ).toEqual([]);
    },
  );
});
