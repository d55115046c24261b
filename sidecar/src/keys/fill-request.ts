import { fieldValue, firstValue, type Headers, HOP_BY_HOP, joinedValue } from "../http-cache/headers.js";
import { varyNames } from "../http-cache/vary.js";
import type { CompiledIdentity } from "../routing/compile-policy.js";
import { type Forwarded, forwardingHeaders } from "./forwarding.js";
import { identifyingCookies } from "./identity.js";

/**
 * The headers of a cache fill: the upstream request whose response may be stored. It is built from the
 * key, not copied from the client, so nothing outside the key can shape a shared entry (no cache
 * poisoning through unkeyed headers). It carries:
 *   - Host, and the route's key headers (declared, plus Accept and Accept-Language)
 *   - X-Forwarded-Proto/Host/For as the sidecar sets them (scheme and forwarded host are keyed)
 *   - the forward-only headers (spec.forwarding.headers: trace context, request ids), never keyed
 *   - on PerUser routes, the identity: Authorization, spec.identity headers, identifying cookies
 *   - the fields a stored response's Vary names, once known (`withVaried`): they select its variant
 * Pure.
 */

/**
 * Never sent on a fill, even when declared as key headers, and absent from the Vary view: a conditional or range request can get a
 * 304 or 206, which is not a complete response to store or to hand to the requests that share the key.
 * The sidecar answers clients' If-None-Match itself from the complete stored response.
 */
const NEVER_FILLED: ReadonlySet<string> = new Set([
  "if-none-match",
  "if-modified-since",
  "if-match",
  "if-unmodified-since",
  "if-range",
  "range",
  // The sidecar stores identity-coded bodies, acceptable to every client: it never asks for another
  // coding, so a response's Vary: Accept-Encoding selects nothing (RFC 9111 §4.1 allows normalizing).
  "accept-encoding",
]);

export interface FillRequestInput {
  readonly headers: Headers;
  readonly keyHeaders: readonly string[];
  readonly scope: "Public" | "PerUser";
  readonly identity: CompiledIdentity;
  readonly forwarded: Forwarded;
  /** Lowercase names of the forward-only headers. */
  readonly forwardOnly: readonly string[];
}

export function fillHeaders(input: FillRequestInput): Record<string, string> {
  const { headers } = input;
  const out: Record<string, string> = {};
  const copy = (name: string) => {
    const value = joinedValue(fieldValue(headers, name));
    if (value === undefined || !fillable(name)) return;
    out[name] = value;
  };
  const host = firstValue(headers.host);
  if (host !== undefined) out.host = host;
  for (const name of input.forwardOnly) copy(name);
  for (const name of input.keyHeaders) copy(name);
  if (input.scope === "PerUser") {
    for (const name of input.identity.headers) copy(name);
    const cookie = identifyingCookies(headers, input.identity);
    if (cookie !== undefined) out.cookie = cookie;
  }
  Object.assign(out, forwardingHeaders(input.forwarded));
  return out;
}

/**
 * The request as the upstream would see it if every field were forwarded: the client's end-to-end
 * fields, overridden by what the fill sets (forwarding headers, identifying cookies only). Vary is
 * matched against it, and a varied field's value is taken from it. Fields a fill never sends are left
 * out, so they read as absent on both sides.
 */
export function varyView(headers: Headers, fill: Readonly<Record<string, string>>): Headers {
  const view: Record<string, Headers[string]> = {};
  for (const name in headers) if (fillable(name)) view[name] = headers[name];
  return Object.assign(view, fill);
}

/** The fill's headers plus the fields a stored response varies on, with the request's values. */
export function withVaried(
  fill: Readonly<Record<string, string>>,
  names: readonly string[],
  view: Headers,
): Record<string, string> {
  const out: Record<string, string> = { ...fill };
  for (const name of names) {
    const value = joinedValue(fieldValue(view, name));
    if (value === undefined || Object.hasOwn(out, name) || !fillable(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Whether a fill may send a field (conditional, range, hop-by-hop and coding fields never). */
export function fillable(name: string): boolean {
  return !NEVER_FILLED.has(name) && !HOP_BY_HOP.has(name) && name !== "content-length";
}

/**
 * The fields a response's Vary names that the client sent but the fill did not: the response is then
 * not the client's variant. (`*` is never stored; fields no fill sends read as absent on both sides.)
 */
export function unsentVaried(
  vary: Headers[string],
  sent: Readonly<Record<string, string>>,
  view: Headers,
): string[] {
  return varyNames(vary).filter(
    (name) =>
      name !== "*" && !Object.hasOwn(sent, name) && fieldValue(view, name) !== undefined && fillable(name),
  );
}
