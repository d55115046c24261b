/**
 * Cache-Control parsing (RFC 9111 §5.2). Pure.
 *
 *   Cache-Control   = #cache-directive                      https://www.rfc-editor.org/rfc/rfc9111#section-5.2
 *   cache-directive = token [ "=" ( token / quoted-string ) ]
 *
 * Directive names are case-insensitive; arguments may be tokens or quoted strings (§5.2: "recipients
 * ought to accept both forms"). A delta-seconds directive whose argument is not a non-negative integer
 * (negative, decimal, single-quoted, missing, spaces around "=") reads as 0: the response is stale,
 * never "no directive" — that would let a fallback (Expires, the policy's ttl) make it fresh. A
 * duplicated delta-seconds directive is treated as the most restrictive (smallest) value (§4.2.1:
 * "...the cache SHOULD consider the response to be stale", approximated conservatively).
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

// Looked up with Object.hasOwn: a directive named "constructor" or "__proto__" is not a flag.
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
    const flag = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
    if (flag) {
      (result as unknown as Record<string, boolean>)[flag] = true;
      continue;
    }
    const numeric = Object.hasOwn(NUMERIC, name) ? NUMERIC[name] : undefined;
    if (numeric) {
      const seconds = deltaSeconds(argument);
      const previous = result[numeric];
      result[numeric] = previous === undefined ? seconds : Math.min(previous, seconds);
    }
  }
  return result;
}

/** RFC 9111 §1.2.2: larger than 2^31 is 2^31; anything but digits is invalid, read as 0 (stale). */
function deltaSeconds(argument: string | undefined): number {
  if (argument === undefined || !DELTA_SECONDS.test(argument)) return 0;
  return Math.min(Number(argument), 2 ** 31);
}

/**
 * The header value for a parsed Cache-Control (canonical order, lowercase, token arguments):
 * parseCacheControl(formatCacheControl(cc)) equals cc.
 */
export function formatCacheControl(cc: CacheControl): string {
  const parts: string[] = [];
  for (const [name, flag] of Object.entries(FLAGS)) if (cc[flag]) parts.push(name);
  for (const [name, numeric] of Object.entries(NUMERIC)) {
    const seconds = cc[numeric];
    if (seconds !== undefined) parts.push(`${name}=${seconds}`);
  }
  return parts.join(", ");
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
    if (part !== "") yield directive(part);
  }
}

function directive(part: string): Directive {
  const equals = part.indexOf("=");
  if (equals === -1) return { name: part.toLowerCase() };
  // No whitespace is allowed around "=": "max-age =5" and "max-age= 5" are invalid arguments.
  const rawName = part.slice(0, equals);
  const name = rawName.trim().toLowerCase();
  const rawArgument = part.slice(equals + 1);
  if (rawName !== rawName.trimEnd() || rawArgument !== rawArgument.trimStart()) return { name, argument: "" };
  return { name, argument: unquote(rawArgument) };
}

function unquote(argument: string): string {
  if (argument.length >= 2 && argument.startsWith('"') && argument.endsWith('"')) {
    return argument.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return argument;
}
