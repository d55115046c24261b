import { firstValue, type Headers } from "../http-cache/headers.js";
import type { CompiledIdentity } from "../routing/compile-policy.js";
import { identifyingCookies } from "./identity.js";

/**
 * The headers of a cache fill: the upstream request whose response may be stored. It is built from the
 * key, not copied from the client, so nothing outside the key can shape a shared entry (no cache
 * poisoning through unkeyed headers such as X-Forwarded-Host). It carries:
 *   - Host, and the route's declared key headers
 *   - the content-negotiation fields Accept and Accept-Language (a response that depends on them must
 *     say so with Vary, which the cache honours by matching their stored values)
 *   - on PerUser routes, the identity: Authorization, spec.identity headers, identifying cookies
 * Pure.
 */
const NEGOTIATION = ["accept", "accept-language"] as const;

/**
 * Never sent on a fill, even when declared as key headers: a conditional or range request can get a
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
]);

export interface FillRequestInput {
  readonly headers: Headers;
  readonly keyHeaders: readonly string[];
  readonly scope: "Public" | "PerUser";
  readonly identity: CompiledIdentity;
}

export function fillHeaders(input: FillRequestInput): Record<string, string> {
  const { headers } = input;
  const out: Record<string, string> = {};
  const copy = (name: string) => {
    const value = headers[name];
    if (value === undefined || NEVER_FILLED.has(name)) return;
    out[name] = typeof value === "string" ? value : value.join(", ");
  };
  const host = firstValue(headers.host);
  if (host !== undefined) out.host = host;
  for (const name of NEGOTIATION) copy(name);
  for (const name of input.keyHeaders) copy(name);
  if (input.scope === "PerUser") {
    for (const name of input.identity.headers) copy(name);
    const cookie = identifyingCookies(headers, input.identity);
    if (cookie !== undefined) out.cookie = cookie;
  }
  return out;
}
