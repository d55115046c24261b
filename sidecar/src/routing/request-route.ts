import { isSafeMethod } from "@apicache/crds";
import type { BypassReason } from "../http-cache/cache-outcome.js";
import { type CompiledPolicy, firstRouteForPath, matchRoute, type RouteMatch } from "./compile-policy.js";

/** The `route` label of requests no route matched (metrics, logs, the dashboard's `route!="none"`). */
export const NO_ROUTE = "none";

/**
 * Where a request goes, and the route it is labelled with — the one place that decides both, so the
 * proxy (proxy/handler.ts) and whatever mirrors its labels (the load harness's dashboard check) cannot
 * drift. Pure. In order:
 *   - OPTIONS and TRACE (safe, never cached): bypassed, labelled "none";
 *   - any other method but GET and HEAD (unsafe, RFC 9110 §9.2.1): a write, labelled with the first
 *     route whose path matches whatever its methods;
 *   - GET and HEAD: bypassed when the policy's mode is Off or the request asks for an upgrade
 *     (labelled "none"); cached by the first route that caches the method and whose path matches;
 *     else bypassed, labelled with the first route whose path matches ("method-not-cached") or "none".
 */
export type RequestRoute =
  | { readonly kind: "cached"; readonly match: RouteMatch }
  | { readonly kind: "write"; readonly route: string }
  | { readonly kind: "bypass"; readonly reason: BypassReason; readonly route: string };

export interface RoutedRequest {
  readonly method: string;
  readonly segments: readonly string[];
  /** The request carries an `Upgrade` field (WebSocket and the like): streamed through, never cached. */
  readonly upgrade: boolean;
}

const SAFE_UNCACHED: RequestRoute = { kind: "bypass", reason: "method-not-cached", route: NO_ROUTE };
const MODE_OFF: RequestRoute = { kind: "bypass", reason: "mode-off", route: NO_ROUTE };
const UPGRADE: RequestRoute = { kind: "bypass", reason: "upgrade", route: NO_ROUTE };

export function requestRoute(
  policy: CompiledPolicy,
  { method, segments, upgrade }: RoutedRequest,
): RequestRoute {
  if (method !== "GET" && method !== "HEAD") {
    if (isSafeMethod(method)) return SAFE_UNCACHED;
    return { kind: "write", route: pathRoute(policy, segments) };
  }
  if (policy.mode === "Off") return MODE_OFF;
  if (upgrade) return UPGRADE;
  const match = matchRoute(policy, method, segments);
  if (match) return { kind: "cached", match };
  const route = pathRoute(policy, segments);
  return { kind: "bypass", reason: route === NO_ROUTE ? "no-route" : "method-not-cached", route };
}

/** The route a request is labelled with (requestRoute's, whatever it decides). */
export function routeLabel(routed: RequestRoute): string {
  return routed.kind === "cached" ? routed.match.route.name : routed.route;
}

/** The label for a path whatever the method: the first route whose path matches. */
function pathRoute(policy: CompiledPolicy, segments: readonly string[]): string {
  return firstRouteForPath(policy, segments)?.name ?? NO_ROUTE;
}
