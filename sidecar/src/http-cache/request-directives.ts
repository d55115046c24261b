import { parseCacheControl } from "./cache-control.js";
import type { BypassReason } from "./cache-outcome.js";
import { type Headers, joinedValue } from "./headers.js";

/**
 * What a request's own cache directives do to a cached route (RFC 9111 §5.2.1). Pure.
 *
 * - `no-store` (§5.2.1.5): the request bypasses the cache, so nothing from it is stored.
 * - `no-cache` (§5.2.1.4), or `Pragma: no-cache` without a Cache-Control field (§5.4): only under
 *   `spec.clientNoCache: Honor`. By default (Ignore) a shared cache in front of an app answers it from
 *   the cache, as Varnish and nginx do: otherwise any client could multiply the load on the app.
 */
export type ClientNoCache = "Ignore" | "Honor";

export function requestBypass(headers: Headers, clientNoCache: ClientNoCache): BypassReason | undefined {
  const cc = parseCacheControl(headers["cache-control"]);
  if (cc.noStore) return "request-no-store";
  if (clientNoCache === "Ignore") return undefined;
  if (cc.noCache) return "request-no-cache";
  if (headers["cache-control"] === undefined && pragmaNoCache(headers.pragma)) return "request-no-cache";
  return undefined;
}

function pragmaNoCache(value: Headers[string]): boolean {
  const joined = joinedValue(value);
  if (joined === undefined) return false;
  return joined.split(",").some((token) => token.trim().toLowerCase() === "no-cache");
}
