/**
 * Cache-Control parsing (RFC 9111 §5.2). Pure.
 *
 *   Cache-Control   = #cache-directive                      https://www.rfc-editor.org/rfc/rfc9111#section-5.2
 *   cache-directive = token [ "=" ( token / quoted-string ) ]
 *
 * Directive names are case-insensitive. A delta-seconds argument that is not a non-negative integer
 * makes the directive invalid (ignored); a duplicated delta-seconds directive is treated as the most
 * restrictive (smallest) value (RFC 9111 §4.2.1: "...the cache SHOULD consider the response to be stale",
 * approximated conservatively).
 */
export interface CacheControl {
  readonly noStore: boolean;
  /** `no-cache` (with or without field names: we treat both as "revalidate every time"). */
  readonly noCache: boolean;
  /** `private` (with or without field names). */
  readonly private: boolean;
  readonly public: boolean;
  readonly mustRevalidate: boolean;
  readonly proxyRevalidate: boolean;
  readonly maxAge?: number;
  readonly sMaxAge?: number;
  readonly staleWhileRevalidate?: number;
  readonly staleIfError?: number;
  /** Request only: `only-if-cached`. */
  readonly onlyIfCached: boolean;
}

const EMPTY: CacheControl = {
  noStore: false,
  noCache: false,
  private: false,
  public: false,
  mustRevalidate: false,
  proxyRevalidate: false,
  onlyIfCached: false,
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type NumericDirective = "maxAge" | "sMaxAge" | "staleWhileRevalidate" | "staleIfError";

const FLAGS: Readonly<Record<string, keyof CacheControl>> = {
  "no-store": "noStore",
  "no-cache": "noCache",
  private: "private",
  public: "public",
  "must-revalidate": "mustRevalidate",
  "proxy-revalidate": "proxyRevalidate",
  "only-if-cached": "onlyIfCached",
};
const NUMERIC: Readonly<Record<string, NumericDirective>> = {
  "max-age": "maxAge",
  "s-maxage": "sMaxAge",
  "stale-while-revalidate": "staleWhileRevalidate",
  "stale-if-error": "staleIfError",
};
const DELTA_SECONDS = /^[0-9]+$/;

/** Parses one or more Cache-Control field values (a repeated header arrives as an array). */
export function parseCacheControl(value: string | readonly string[] | undefined): CacheControl {
  if (value === undefined || value === "") return EMPTY;
  const text = typeof value === "string" ? value : value.join(",");
  const result: Mutable<CacheControl> = { ...EMPTY };
  for (const { name, argument } of directives(text)) {
    const flag = FLAGS[name];
    if (flag) {
      (result as unknown as Record<string, boolean>)[flag] = true;
      continue;
    }
    const numeric = NUMERIC[name];
    if (numeric && argument !== undefined && DELTA_SECONDS.test(argument)) {
      // RFC 9111 §1.2.2: delta-seconds larger than 2^31 are treated as 2^31.
      const seconds = Math.min(Number(argument), 2 ** 31);
      const previous = result[numeric];
      result[numeric] = previous === undefined ? seconds : Math.min(previous, seconds);
    }
  }
  return result;
}

interface Directive {
  readonly name: string;
  readonly argument?: string;
}

/** Splits on commas outside quoted strings; unquotes arguments. */
function* directives(text: string): Generator<Directive> {
  let index = 0;
  while (index < text.length) {
    let end = index;
    let quoted = false;
    while (end < text.length) {
      const char = text[end];
      if (char === '"') quoted = !quoted;
      else if (char === "\\" && quoted) end++;
      else if (char === "," && !quoted) break;
      end++;
    }
    const part = text.slice(index, end).trim();
    index = end + 1;
    if (part === "") continue;
    const equals = part.indexOf("=");
    if (equals === -1) {
      yield { name: part.toLowerCase() };
      continue;
    }
    const name = part.slice(0, equals).trim().toLowerCase();
    yield { name, argument: unquote(part.slice(equals + 1).trim()) };
  }
}

function unquote(argument: string): string {
  if (argument.length >= 2 && argument.startsWith('"') && argument.endsWith('"')) {
    return argument.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return argument;
}
