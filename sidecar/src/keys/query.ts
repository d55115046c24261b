import { normalizePercentEncoding } from "../routing/percent-encoding.js";

/**
 * The declared query parameters of a request, in a canonical order: sorted by name (so parameter order
 * does not matter), repeated parameters kept in their original order (their order may matter). Only the
 * route's declared names are looked at, so a request with 10,000 other parameters costs one scan. Pure.
 *
 * Each pair keeps its spelling, normalized only as RFC 3986 §6.2.2 allows (unreserved escapes decoded,
 * hex digits uppercased): the key and the fill carry what the client sent, so two spellings an upstream
 * could read differently never share an entry — `q` and `q=`, `%zz` (malformed, kept as written) and
 * `%25zz`, `a+b` and `a%20b` (the same under form decoding, not under RFC 3986 decoding). Names are
 * form-decoded only to compare them with the declared names.
 */
export type QueryPairs = readonly (readonly [name: string, spelling: string])[];

export function declaredQuery(query: string, declared: readonly string[]): QueryPairs {
  if (query === "" || declared.length === 0) return [];
  const found: [string, string][] = [];
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf("&", start);
    if (end === -1) end = query.length;
    if (end > start) {
      const pair = query.slice(start, end);
      const equals = pair.indexOf("=");
      const name = decode(equals === -1 ? pair : pair.slice(0, equals));
      if (declared.includes(name)) found.push([name, normalizePercentEncoding(pair)]);
    }
    start = end + 1;
  }
  // Array.prototype.sort is stable: repeated names keep their relative order.
  return found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** `a=1&b=x%20y` — the pairs as spelled, in canonical order. */
export function formatQuery(pairs: QueryPairs): string {
  let out = "";
  for (const [, spelling] of pairs) {
    if (out !== "") out += "&";
    out += spelling;
  }
  return out;
}

/** application/x-www-form-urlencoded decoding; malformed escapes are kept as written. */
function decode(text: string): string {
  const spaced = text.includes("+") ? text.replaceAll("+", " ") : text;
  if (!spaced.includes("%")) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
