/**
 * Tiny PromQL builders: they keep the generated queries uniform (label order, spacing) so the dashboard,
 * the recording rules and the alerts read the same. Pure string functions.
 */

/** `metric{a="x", b=~"y"}`; matchers are written in full (`policy=~"$policy"`). */
export function sel(metric: string, ...matchers: readonly string[]): string {
  const present = matchers.filter((m) => m !== "");
  return present.length === 0 ? metric : `${metric}{${present.join(", ")}}`;
}

export function rate(selector: string, window: string): string {
  return `rate(${selector}[${window}])`;
}

export function increase(selector: string, window: string): string {
  return `increase(${selector}[${window}])`;
}

export function sumBy(labels: readonly string[], expr: string): string {
  return labels.length === 0 ? `sum(${expr})` : `sum by (${labels.join(", ")}) (${expr})`;
}

export function maxBy(labels: readonly string[], expr: string): string {
  return labels.length === 0 ? `max(${expr})` : `max by (${labels.join(", ")}) (${expr})`;
}

/** The q-quantile of a histogram's `_bucket` series, aggregated by `labels`. */
export function quantile(
  q: number,
  labels: readonly string[],
  bucketSelector: string,
  window: string,
): string {
  return `histogram_quantile(${q}, ${sumBy([...labels, "le"], rate(bucketSelector, window))})`;
}

/**
 * `num / den`, where a missing numerator counts as 0 whenever the denominator has data: an error
 * counter that never moved has no series, and "0 errors" must still show as 0 (and alert as healthy).
 */
export function ratioOrZero(numerator: string, denominator: string): string {
  return `(${orZero(numerator, denominator)}) / ${denominator}`;
}

/** `expr`, or 0 where `base` has data and `expr` has none (a counter that never moved). */
export function orZero(expr: string, base: string): string {
  return `${expr} or ${base} * 0`;
}

/** A series name with a suffix: `apicache_request_duration_seconds` + `_bucket`. */
export function suffixed(metric: string, suffix: "_bucket" | "_sum" | "_count"): string {
  return `${metric}${suffix}`;
}
