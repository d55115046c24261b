/**
 * The monitoring generators: the Grafana dashboard and the Prometheus rules, built from the metric names
 * the sidecar and the operator define. `generatedMonitoringFiles()` lists every file they own, the
 * committed copy and the chart's copy alike; `make manifests` writes them and a test checks drift.
 */
import { dashboardJson } from "./dashboard.js";
import { rulesYaml } from "./rules.js";

export { alertRules } from "./alerts.js";
export { dashboardJson } from "./dashboard.js";
export {
  dashboardExpressions,
  resolveGrafanaVariables,
  ruleExpressions,
  type SourcedExpression,
} from "./expressions.js";
export { recordingRules } from "./recording-rules.js";
export { ruleGroups, rulesYaml } from "./rules.js";

export interface GeneratedFile {
  /** Path relative to the repository root. */
  readonly path: string;
  readonly content: string;
}

export const DASHBOARD_FILE = "monitoring/generated/apicache-dashboard.json";
export const RULES_FILE = "monitoring/generated/apicache-rules.yaml";
export const CHART_DASHBOARD_FILE = "charts/apicache/dashboards/apicache.json";
export const CHART_RULES_FILE = "charts/apicache/files/rules.yaml";

export function generatedMonitoringFiles(): GeneratedFile[] {
  const dashboard = dashboardJson();
  const rules = rulesYaml();
  return [
    { path: DASHBOARD_FILE, content: dashboard },
    { path: RULES_FILE, content: rules },
    { path: CHART_DASHBOARD_FILE, content: dashboard },
    { path: CHART_RULES_FILE, content: rules },
  ];
}
