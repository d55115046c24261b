/**
 * The declared query parameters of a request, in a canonical order: sorted by name (so parameter order
 * does not matter), repeated parameters kept in their original order (their order may matter). Only the
 * route's declared names are looked at, so a request with 10,000 other parameters costs one scan. Pure.
 */
export type QueryPairs = readonly (readonly [name: string, value: string])[];

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
      if (declared.includes(name)) found.push([name, equals === -1 ? "" : decode(pair.slice(equals + 1))]);
    }
    start = end + 1;
  }
  // Array.prototype.sort is stable: repeated names keep their relative order.
  return found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** `a=1&b=x%20y` — the canonical encoding of the pairs. */
export function formatQuery(pairs: QueryPairs): string {
  let out = "";
  for (const [name, value] of pairs) {
    if (out !== "") out += "&";
    out += `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
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
