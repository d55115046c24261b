/**
 * The apicache Grafana dashboard, built with @grafana/grafana-foundation-sdk from the programs' metric
 * names and the shared recording rules. Variables: datasource, namespace, policy, route.
 */
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DATASOURCE } from "./dashboard-kit.js";
import { operatorRows } from "./dashboard-operator.js";
import { sidecarRows } from "./dashboard-sidecar.js";
import { formatJson } from "./json-format.js";
import { S } from "./names.js";

export const DASHBOARD_UID = "apicache";

function queryVariable(name: string, label: string, query: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .query(query)
    .definition(query)
    .datasource(DATASOURCE)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(".*")
    .current({ selected: true, text: "All", value: "$__all" });
}

/** The variables' label_values() queries (Grafana syntax; the inner selector is PromQL). */
export const VARIABLE_QUERIES = {
  namespace: `label_values(${S.configInfo}, namespace)`,
  policy: `label_values(${S.configInfo}{namespace=~"$namespace"}, policy)`,
  route: `label_values(${S.requests}{namespace=~"$namespace", policy=~"$policy"}, route)`,
} as const;

export function buildDashboard(): DashboardBuilder {
  const builder = new DashboardBuilder("apicache")
    .uid(DASHBOARD_UID)
    .description(
      "API response cache: how much faster (improvement, hit ratio), and is it healthy (Redis, upstream, operator).",
    )
    .tags(["apicache", "cache", "redis"])
    .editable()
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .timezone("browser")
    .withVariable(new DatasourceVariableBuilder("datasource").label("Data source").type("prometheus"))
    .withVariable(queryVariable("namespace", "Namespace", VARIABLE_QUERIES.namespace))
    .withVariable(queryVariable("policy", "CachePolicy", VARIABLE_QUERIES.policy))
    .withVariable(queryVariable("route", "Route", VARIABLE_QUERIES.route));
  for (const row of [...sidecarRows(), ...operatorRows()]) {
    builder.withRow(new RowBuilder(row.title));
    for (const panel of row.panels) builder.withPanel(panel);
  }
  return builder;
}

/** The dashboard JSON, formatted as committed (2-space indent, trailing newline). */
export function dashboardJson(): string {
  return formatJson(buildDashboard().build());
}
