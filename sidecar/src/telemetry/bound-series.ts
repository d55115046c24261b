import type { Counter, Histogram } from "prom-client";

/**
 * Label values bound once, for the per-request metrics (ADR 0027). prom-client's own bound series
 * (`labels(...)`) still rebuild, validate and hash the label set on every `observe`/`inc` (about
 * 1.3 µs and 0.8 µs, three of them per L1 hit). These write into the series record prom-client
 * keeps for those labels instead: the same record its exposition reads, so /metrics is unchanged.
 *
 * The record is found once, after a first update through prom-client's own path, and used while it
 * is still the one prom-client holds (a `reset()` replaces it: the next update goes the slow way and
 * finds the new one). Anything unusual (a value prom-client would reject, internals not as expected)
 * takes prom-client's own path, so behaviour never depends on this shortcut; bound-series.test.ts
 * checks the exposition is byte for byte what prom-client alone produces.
 */
interface SeriesRecord {
  readonly labels: Readonly<Record<string, string | number>>;
}

interface HistogramRecord extends SeriesRecord {
  sum: number;
  count: number;
  readonly bucketValues: Record<number, number>;
}

interface CounterRecord extends SeriesRecord {
  value: number;
}

/** What prom-client (v15) keeps per metric: a record per label set. */
interface Internals<R> {
  readonly hashMap?: Record<string, R>;
  readonly labelNames?: readonly string[];
  readonly upperBounds?: readonly number[];
  readonly enableExemplars?: boolean;
}

/** The key and record prom-client holds for these label values, if its internals are as expected. */
function findRecord<R extends SeriesRecord>(
  metric: Internals<R>,
  values: readonly string[],
): { readonly key: string; readonly record: R } | undefined {
  const { hashMap, labelNames } = metric;
  if (metric.enableExemplars || hashMap === undefined || labelNames?.length !== values.length) return;
  for (const key in hashMap) {
    const record = hashMap[key] as R;
    if (labelNames.every((name, i) => String(record.labels?.[name]) === values[i])) return { key, record };
  }
  return undefined;
}

export interface BoundHistogram {
  observe(value: number): void;
}

export function bindHistogram(histogram: Histogram<string>, values: readonly string[]): BoundHistogram {
  const slow = histogram.labels(...values);
  const internals = histogram as unknown as Internals<HistogramRecord>;
  let found: { readonly key: string; readonly record: HistogramRecord } | undefined;
  let gaveUp = false;
  return {
    observe(value: number): void {
      const bounds = internals.upperBounds;
      const stale = found === undefined || internals.hashMap?.[found.key] !== found.record;
      // prom-client throws on a value that is not finite: its own path says so.
      if (stale || bounds === undefined || !Number.isFinite(value)) {
        slow.observe(value);
        // Just written, the record exists: not finding it means other internals, never looked for again.
        if (stale && !gaveUp) found = findRecord(internals, values);
        gaveUp ||= found === undefined;
        return;
      }
      const record = (found as { readonly record: HistogramRecord }).record;
      record.sum += value;
      record.count += 1;
      // As prom-client: the first bound at or above the value (none: only +Inf, counted from `count`).
      for (let i = 0; i < bounds.length; i++) {
        const bound = bounds[i] as number;
        if (value <= bound) {
          if (Object.hasOwn(record.bucketValues, bound))
            record.bucketValues[bound] = (record.bucketValues[bound] as number) + 1;
          return;
        }
      }
    },
  };
}

export interface BoundCounter {
  inc(value?: number): void;
}

export function bindCounter(counter: Counter<string>, values: readonly string[]): BoundCounter {
  const slow = counter.labels(...values);
  const internals = counter as unknown as Internals<CounterRecord>;
  let found: { readonly key: string; readonly record: CounterRecord } | undefined;
  let gaveUp = false;
  return {
    inc(value = 1): void {
      const stale = found === undefined || internals.hashMap?.[found.key] !== found.record;
      // prom-client throws on a value that is not finite or negative: its own path says so.
      if (stale || !(Number.isFinite(value) && value >= 0)) {
        slow.inc(value);
        if (stale && !gaveUp) found = findRecord(internals, values);
        gaveUp ||= found === undefined;
        return;
      }
      (found as { readonly record: CounterRecord }).record.value += value;
    },
  };
}
