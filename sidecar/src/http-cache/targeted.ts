import { type CacheControl, parseCacheControl } from "./cache-control.js";
import { type Headers, joinedValue } from "./headers.js";

/**
 * Targeted cache-control fields (RFC 9213): an application can steer caches apart from browsers. The
 * sidecar obeys, in this order, the first of these fields that is present and valid, and then ignores
 * `Cache-Control` and `Expires` entirely (§2.2):
 *
 *   Apicache-Cache-Control   for this sidecar only
 *   CDN-Cache-Control        for every CDN and reverse-proxy cache (RFC 9213 §3)
 *   Cache-Control            otherwise
 *
 * Targeted fields are Structured Field Dictionaries (RFC 8941). A field that does not parse, or whose
 * known directive has a value of the wrong type (`max-age="60"`, `no-store=1`), is ignored as a whole
 * (§2.1: "as if the field were not present"), so a typo never makes an uncacheable response cacheable.
 * Pure. https://www.rfc-editor.org/rfc/rfc9213
 */
export const TARGETED_FIELDS = ["apicache-cache-control", "cdn-cache-control"] as const;

export interface ResponseCacheControl {
  readonly cc: CacheControl;
  /** Which field it came from: a targeted one means Expires is not consulted either. */
  readonly field: (typeof TARGETED_FIELDS)[number] | "cache-control";
}

export function responseCacheControl(headers: Headers): ResponseCacheControl {
  for (const field of TARGETED_FIELDS) {
    const value = joinedValue(headers[field]);
    if (value === undefined) continue;
    const cc = parseTargeted(value);
    if (cc) return { cc, field };
  }
  return { cc: parseCacheControl(headers["cache-control"]), field: "cache-control" };
}

const BOOLEAN_DIRECTIVES: ReadonlySet<string> = new Set([
  "no-store",
  "no-cache",
  "private",
  "public",
  "must-revalidate",
  "proxy-revalidate",
]);
const INTEGER_DIRECTIVES: ReadonlySet<string> = new Set([
  "max-age",
  "s-maxage",
  "stale-while-revalidate",
  "stale-if-error",
]);

/** The targeted field as Cache-Control, or undefined when it must be ignored. */
export function parseTargeted(value: string): CacheControl | undefined {
  const members = parseDictionary(value);
  if (members === undefined || members.length === 0) return undefined;
  const canonical: string[] = [];
  for (const [key, item] of members) {
    if (BOOLEAN_DIRECTIVES.has(key)) {
      if (item !== true) return undefined;
      canonical.push(key);
    } else if (INTEGER_DIRECTIVES.has(key)) {
      if (typeof item !== "number") return undefined;
      canonical.push(`${key}=${item < 0 ? "invalid" : item}`);
    }
  }
  return parseCacheControl(canonical.join(","));
}

/** A member's bare item: true/false, an integer, or "other" (string, token, decimal, bytes, list). */
type Item = boolean | number | "other";

const KEY = /^[a-z*][a-z0-9_.*-]*$/;
const INTEGER = /^-?[0-9]{1,15}$/;
const DECIMAL = /^-?[0-9]{1,12}\.[0-9]{1,3}$/;
const TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;
const STRING = /^"(?:[ !#-[\]-~]|\\["\\])*"$/; // printable ASCII; only \" and \\ escaped
const BYTES = /^:[A-Za-z0-9+/=]*:$/;
const INNER_LIST = /^\((?:[^()"]|"(?:[^"\\]|\\.)*")*\)$/;

/** RFC 8941 §4.2.2, strict about syntax: undefined on any error. Parameters are checked and dropped. */
function parseDictionary(value: string): [string, Item][] | undefined {
  const members: [string, Item][] = [];
  const raws = splitOutside(value.trim(), ",");
  // §4.2.2: an empty member (a trailing or doubled comma, an empty field) is a parse error.
  if (raws.some((raw) => raw.trim() === "")) return undefined;
  for (const raw of raws) {
    const member = raw.trim();
    const [head, ...params] = splitOutside(member, ";");
    if (head === undefined || !params.every(validParameter)) return undefined;
    const equals = head.indexOf("=");
    const key = equals === -1 ? head : head.slice(0, equals);
    if (!KEY.test(key)) return undefined;
    if (equals === -1) {
      members.push([key, true]);
      continue;
    }
    const text = head.slice(equals + 1);
    const item = INNER_LIST.test(text) ? "other" : bareItem(text);
    if (item === undefined) return undefined;
    members.push([key, item]);
  }
  // §4.2.2: a later member with the same key replaces an earlier one.
  return [...new Map(members)];
}

function bareItem(text: string): Item | undefined {
  if (text === "?1") return true;
  if (text === "?0") return false;
  if (INTEGER.test(text)) return Number(text);
  if (DECIMAL.test(text) || STRING.test(text) || TOKEN.test(text) || BYTES.test(text)) return "other";
  return undefined;
}

function validParameter(param: string): boolean {
  const equals = param.indexOf("=");
  const key = (equals === -1 ? param : param.slice(0, equals)).trim();
  if (!KEY.test(key)) return false;
  return equals === -1 || bareItem(param.slice(equals + 1)) !== undefined;
}

function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === "\\") i++;
      else if (char === '"') quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === "(") depth++;
    else if (char === ")") depth--;
    else if (char === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
