import type { VaryValue } from "./entry.js";
import { fieldValue, type Headers, joinedValue } from "./headers.js";

/**
 * Vary (RFC 9111 §4.1): a stored response is reused only for requests whose values of the fields its
 * `Vary` names match those of the request that fetched it. Values are compared after collapsing
 * whitespace (the RFC allows normalizing). `Vary: *` never matches, so such responses are not stored.
 * https://www.rfc-editor.org/rfc/rfc9111#section-4.1
 */

/** RFC 9110 §5.1 field names (tokens). A request can carry no other, so no other can select a variant. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** Lowercase field names a `Vary` header lists; `["*"]` for `Vary: *`. Names that are not tokens are dropped. */
export function varyNames(value: Headers[string]): string[] {
  const joined = joinedValue(value);
  if (!joined) return [];
  const names = joined
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes("*")) return ["*"];
  return [...new Set(names.filter((name) => FIELD_NAME.test(name)))];
}

function normalize(value: Headers[string]): string | null {
  const joined = joinedValue(value);
  return joined === undefined ? null : joined.replace(/\s+/g, " ").trim();
}

/** The request's values of the named fields, as stored in the entry. */
export function varyValues(names: readonly string[], request: Headers): VaryValue[] {
  return names.map((name) => [name, normalize(fieldValue(request, name))] as const);
}

/** Whether a request may be answered by an entry stored with these Vary values. */
export function varyMatches(stored: readonly VaryValue[], request: Headers): boolean {
  for (const [name, value] of stored) {
    if (normalize(fieldValue(request, name)) !== value) return false;
  }
  return true;
}
