/**
 * Just enough of the Prometheus text format for the benchmark: samples with their labels, sums over a
 * filter, the difference between two scrapes, and a quantile's bucket from histogram buckets. Pure.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseSamples(text: string, only?: (name: string) => boolean): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.length === 0) continue;
    const match = LINE.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    if (only && !only(match[1])) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) {
      if (key !== undefined) labels[key] = value ?? "";
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

const keyOf = (sample: Sample) =>
  `${sample.name}{${Object.entries(sample.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(",")}}`;

/** after − before, per series (a series absent before counts from 0); unchanged series dropped. */
export function diffSamples(before: readonly Sample[], after: readonly Sample[]): Sample[] {
  const previous = new Map(before.map((s) => [keyOf(s), s.value]));
  return after
    .map((s) => ({ ...s, value: s.value - (previous.get(keyOf(s)) ?? 0) }))
    .filter((s) => s.value !== 0);
}

export function sumOf(
  samples: readonly Sample[],
  name: string,
  where: (labels: Readonly<Record<string, string>>) => boolean = () => true,
): number {
  return samples.filter((s) => s.name === name && where(s.labels)).reduce((total, s) => total + s.value, 0);
}

/**
 * The upper bound (in the metric's unit) of the bucket holding quantile `q` of a histogram's
 * observations, summed over the series that pass `where`: "p99 ≤ this". Infinity past the last bucket.
 */
export function bucketQuantile(
  samples: readonly Sample[],
  histogram: string,
  q: number,
  where: (labels: Readonly<Record<string, string>>) => boolean = () => true,
): { count: number; le: number } {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${histogram}_bucket` || !where(s.labels)) continue;
    const le = s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  const sorted = [...buckets.entries()].sort(([a], [b]) => a - b);
  const count = sorted.at(-1)?.[1] ?? 0;
  const rank = q * count;
  const found = sorted.find(([, cumulative]) => cumulative >= rank);
  return { count, le: found?.[0] ?? Number.POSITIVE_INFINITY };
}
