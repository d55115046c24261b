/**
 * A deep copy of JSON-like data for a parser to fill in defaults: new objects and arrays, the same
 * strings (they are immutable; `structuredClone` copies each one) and the same Dates (a client's
 * typed timestamps; never written to). The operator keeps a parsed policy per CachePolicy beside
 * the stored one, so sharing their strings halves what both cost (ADR 0017, section 6). An own
 * `__proto__` key (JSON.parse makes one) stays an own property, as with structuredClone.
 */
export function copyJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyJson) as T;
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "__proto__") {
      Object.defineProperty(out, key, {
        value: copyJson(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = copyJson(item);
    }
  }
  return out as T;
}
