/**
 * Every PromQL expression the generated files contain, listed with where it comes from, and a way to
 * turn a dashboard query into plain PromQL (Grafana's variables resolved to "everything"). Tests run
 * each one against a real Prometheus; nothing here talks to one.
 */
import { alertRules } from "./alerts.js";
import { buildDashboard, VARIABLE_QUERIES } from "./dashboard.js";
import { recordingRules } from "./recording-rules.js";

export interface SourcedExpression {
  /** e.g. `dashboard: Hit ratio #A`, `record: apicache:hit_ratio:rate5m`, `alert value: ApicacheStoreErrors`. */
  readonly source: string;
  readonly expr: string;
  /** Which program's metrics it needs. */
  readonly needs: "sidecar" | "operator";
}

const OPERATOR_PREFIX = "apicache_operator_";

function needsOf(expr: string): SourcedExpression["needs"] {
  return expr.includes(OPERATOR_PREFIX) ? "operator" : "sidecar";
}

interface DashboardPanelJson {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string; readonly refId?: string }[];
}

export function dashboardExpressions(): SourcedExpression[] {
  const panels = (buildDashboard().build().panels ?? []) as readonly DashboardPanelJson[];
  const fromPanels = panels.flatMap((panel) =>
    (panel.targets ?? []).flatMap((t) =>
      t.expr === undefined ? [] : [{ source: `dashboard: ${panel.title} #${t.refId}`, expr: t.expr }],
    ),
  );
  const fromVariables = Object.entries(VARIABLE_QUERIES).map(([name, query]) => ({
    source: `dashboard variable: ${name}`,
    expr: labelValuesSelector(query),
  }));
  return [...fromPanels, ...fromVariables].map((e) => ({ ...e, needs: needsOf(e.expr) }));
}

export function ruleExpressions(): SourcedExpression[] {
  const records = recordingRules().map((r) => ({ source: `record: ${r.record}`, expr: r.expr }));
  const alerts = alertRules().flatMap((a) => [
    { source: `alert value: ${a.alert}`, expr: a.value },
    ...(a.guard === undefined ? [] : [{ source: `alert guard: ${a.alert}`, expr: a.guard }]),
  ]);
  return [...records, ...alerts].map((e) => ({ ...e, needs: needsOf(e.expr) }));
}

/** `label_values(sel, label)` → `sel`: the PromQL part of a Grafana variable query. */
export function labelValuesSelector(query: string): string {
  const match = /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(query);
  if (!match?.[1]) throw new Error(`monitoring: not a label_values() query: ${query}`);
  return match[1];
}

/**
 * Grafana's variables resolved the way "All" resolves them (`.*`), and `$__rate_interval` and `$__range` to a window,
 * so a dashboard query can be sent to Prometheus as is.
 */
export function resolveGrafanaVariables(expr: string, rateWindow: string): string {
  return expr
    .replaceAll("$__rate_interval", rateWindow)
    .replaceAll("$__range", rateWindow)
    .replace(/\$(namespace|policy|route)\b/g, ".*");
}
