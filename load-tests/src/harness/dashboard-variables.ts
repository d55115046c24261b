/**
 * A panel's query as Grafana would send it: taken from the generated dashboard JSON by panel title, with
 * the dashboard's variables resolved for one time range, the way Grafana resolves them. Pure.
 *
 * Resolved: the query variables (`$namespace`, `$policy`, `$route`: "All" is their allValue `.*`, chosen
 * values become a regex alternation, as Grafana's Prometheus datasource writes them), `$__range`
 * (`$__range_s`, `$__range_ms`), `$__interval` (`$__interval_ms`) and `$__rate_interval`. Anything else
 * left after a `$` is an error: a panel using a variable this does not know must not be checked silently.
 */

export interface DashboardJson {
  readonly panels?: readonly DashboardPanel[];
}

export interface DashboardPanel {
  readonly title?: string;
  readonly type?: string;
  readonly targets?: readonly { readonly expr?: string; readonly refId?: string }[];
}

/** The dashboard's time range and what Grafana derives its intervals from. */
export interface GrafanaWindow {
  readonly fromMs: number;
  readonly toMs: number;
  /** The datasource's scrape interval (Grafana's "min interval"), seconds. */
  readonly scrapeIntervalSeconds: number;
  /** The panel's max data points (Grafana: about its width in pixels). */
  readonly maxDataPoints?: number;
}

/** The one query of the panel titled `title` (a headline stat has exactly one). */
export function panelQuery(dashboard: DashboardJson, title: string): string {
  const panels = (dashboard.panels ?? []).filter((p) => p.title === title);
  if (panels.length !== 1)
    throw new Error(`dashboard: expected one panel titled "${title}", found ${panels.length}`);
  const exprs = (panels[0]?.targets ?? []).flatMap((t) => (t.expr === undefined ? [] : [t.expr]));
  if (exprs.length !== 1 || exprs[0] === undefined)
    throw new Error(`dashboard: panel "${title}" has ${exprs.length} queries, expected one`);
  return exprs[0];
}

/** Grafana's `$__interval`: the range over max data points, never below the scrape interval (whole seconds). */
export function grafanaInterval(window: GrafanaWindow): number {
  const rangeSeconds = (window.toMs - window.fromMs) / 1000;
  const perPoint = rangeSeconds / (window.maxDataPoints ?? 1000);
  return Math.max(window.scrapeIntervalSeconds, Math.ceil(perPoint));
}

/** Grafana's `$__rate_interval`: max($__interval + scrape interval, 4 × scrape interval). */
export function grafanaRateInterval(window: GrafanaWindow): number {
  const scrape = window.scrapeIntervalSeconds;
  return Math.max(grafanaInterval(window) + scrape, 4 * scrape);
}

function regexAlternation(values: readonly string[]): string {
  const escaped = values.map((v) => v.replace(/[\\^$.|?*+()[\]{}]/g, "\\\\$&"));
  return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join("|")})`;
}

/**
 * `expr` with every variable resolved for `window`. `selected` names the values chosen for query
 * variables; a variable not named is "All".
 */
export function resolveVariables(
  expr: string,
  window: GrafanaWindow,
  selected: Readonly<Record<string, readonly string[]>> = {},
): string {
  if (window.toMs <= window.fromMs) throw new Error("dashboard: the time range ends before it starts");
  const rangeSeconds = Math.round((window.toMs - window.fromMs) / 1000);
  const interval = grafanaInterval(window);
  const builtIn: Record<string, string> = {
    __rate_interval: `${grafanaRateInterval(window)}s`,
    __range_ms: String(rangeSeconds * 1000),
    __range_s: String(rangeSeconds),
    __range: `${rangeSeconds}s`,
    __interval_ms: String(interval * 1000),
    __interval: `${interval}s`,
  };
  const resolved = expr.replace(/\$(\w+)/g, (whole, name: string) => {
    if (name in builtIn) return builtIn[name] as string;
    if (name.startsWith("__")) return whole;
    const values = selected[name];
    return values === undefined || values.length === 0 ? ".*" : regexAlternation(values);
  });
  const left = /\$\w+/.exec(resolved);
  if (left) throw new Error(`dashboard: no value for the variable ${left[0]} in ${expr}`);
  return resolved;
}
