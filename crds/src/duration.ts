/**
 * Durations as written in a CachePolicy: one or more `<integer><unit>` parts, units ms, s, m, h
 * ("500ms", "30s", "5m", "1h30m"). The same grammar as the CRD's CEL rule (`DURATION_PATTERN`), and a
 * subset of Go's time.ParseDuration, so CEL's `duration()` accepts every value this accepts.
 */
export const DURATION_PATTERN = "^([0-9]+(ms|s|m|h))+$";
const DURATION_RE = new RegExp(DURATION_PATTERN);
const PART_RE = /([0-9]+)(ms|s|m|h)/g;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_RE)) {
    total += Number(amount) * (UNIT_MS[unit as string] ?? 0);
  }
  return total;
}

/** Milliseconds for a duration the parser has already validated; throws on a bad value. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new RangeError(`not a duration: ${JSON.stringify(text)}`);
  return ms;
}

/** The shortest duration string for a whole number of milliseconds ("90000" -> "1m30s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const parts: string[] = [];
  let rest = ms;
  for (const unit of ["h", "m", "s", "ms"] as const) {
    const size = UNIT_MS[unit] as number;
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join("");
}
