/**
 * A deep copy of JSON-like data for a parser to fill in defaults: new objects and arrays, the same
 * strings (they are immutable; `structuredClone` copies each one) and the same Dates (a client's
 * typed timestamps; never written to). The operator keeps a parsed policy per CachePolicy beside
 * the stored one, so sharing their strings halves what both cost (ADR 0017, section 6). Like
 * `structuredClone`, it copies an object met twice once (YAML aliases), cycles included, and keeps
 * an own `__proto__` key an own property.
 */
export function copyJson<T>(value: T): T {
  return copy(value, new Map()) as T;
}

function copy(value: unknown, copies: Map<object, unknown>): unknown {
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const done = copies.get(value);
  if (done !== undefined) return done;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    copies.set(value, out);
    value.forEach((item, i) => {
      out[i] = copy(item, copies);
    });
    return out;
  }
  const out: Record<string, unknown> = {};
  copies.set(value, out);
  for (const [key, item] of Object.entries(value)) {
    if (key !== "__proto__") out[key] = copy(item, copies);
    else
      Object.defineProperty(out, key, {
        value: copy(item, copies),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}
