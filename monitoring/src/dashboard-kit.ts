/**
 * Panel and query builders shared by the dashboard's rows: one datasource variable, uniform legends,
 * units and sizes, so each row file only says what it shows.
 */
import {
  BigValueColorMode,
  BigValueGraphMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  StackingConfigBuilder,
  StackingMode,
  VizLegendOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import {
  type Threshold,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanelBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";

/** Every query goes to the datasource the `datasource` variable picks. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
export const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;

/** Label matchers bound to the dashboard's variables. */
export const F = {
  namespace: 'namespace=~"$namespace"',
  policy: 'policy=~"$policy"',
  route: 'route=~"$route"',
} as const;

/** The dashboard's rate window: Grafana picks it from the scrape interval. */
export const RATE = "$__rate_interval";
/** The whole time range the dashboard shows (the headline stats cover it, evaluated once at its end). */
export const RANGE = "$__range";

export interface Query {
  readonly expr: string;
  readonly legend: string;
  /** Evaluated once, at the end of the time range (Grafana's "Instant" query type). */
  readonly instant?: boolean;
}

export function q(expr: string, legend: string, options: { instant?: boolean } = {}): Query {
  return { expr, legend, ...(options.instant ? { instant: true } : {}) };
}

function target(query: Query, index: number): DataqueryBuilder {
  const builder = new DataqueryBuilder()
    .expr(query.expr)
    .legendFormat(query.legend)
    .refId(String.fromCharCode(65 + index))
    .datasource(DATASOURCE);
  return query.instant ? builder.instant() : builder;
}

export interface PanelOptions {
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  /** Grid width (of 24) and height. */
  readonly width?: number;
  readonly height?: number;
  readonly stacked?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly thresholds?: Threshold[];
}

function thresholds(steps: Threshold[]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
}

export function timeseries(title: string, options: PanelOptions): TimeseriesPanelBuilder {
  const panel = new TimeseriesPanelBuilder()
    .title(title)
    .description(options.description)
    .datasource(DATASOURCE)
    .unit(options.unit)
    .span(options.width ?? 12)
    .height(options.height ?? 8)
    .fillOpacity(options.stacked ? 30 : 10)
    .lineWidth(1)
    .legend(
      new VizLegendOptionsBuilder()
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(["mean", "lastNotNull"]),
    );
  if (options.stacked) panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  if (options.min !== undefined) panel.min(options.min);
  if (options.max !== undefined) panel.max(options.max);
  if (options.thresholds) panel.thresholds(thresholds(options.thresholds));
  options.queries.forEach((query, i) => {
    panel.withTarget(target(query, i));
  });
  return panel;
}

export function stat(title: string, options: PanelOptions): StatPanelBuilder {
  const panel = new StatPanelBuilder()
    .title(title)
    .description(options.description)
    .datasource(DATASOURCE)
    .unit(options.unit)
    .span(options.width ?? 6)
    .height(options.height ?? 5)
    // An instant query has one point: nothing to draw behind the value.
    .graphMode(options.queries.every((x) => x.instant) ? BigValueGraphMode.None : BigValueGraphMode.Area)
    .colorMode(BigValueColorMode.Value)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false));
  if (options.min !== undefined) panel.min(options.min);
  if (options.max !== undefined) panel.max(options.max);
  if (options.thresholds) panel.thresholds(thresholds(options.thresholds));
  options.queries.forEach((query, i) => {
    panel.withTarget(target(query, i));
  });
  return panel;
}

/** Red below `warnBelow`, green from `okFrom` (ratios on a 0–1 scale). */
export function higherIsBetter(warnBelow: number, okFrom: number): Threshold[] {
  return [
    { value: null, color: "red" },
    { value: warnBelow, color: "orange" },
    { value: okFrom, color: "green" },
  ];
}

export function lowerIsBetter(warnFrom: number, badFrom: number): Threshold[] {
  return [
    { value: null, color: "green" },
    { value: warnFrom, color: "orange" },
    { value: badFrom, color: "red" },
  ];
}
