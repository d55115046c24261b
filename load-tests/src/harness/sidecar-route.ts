/**
 * The route label the sidecar gives a request in its metrics (the `route` label the dashboard's panels
 * group and filter by), from the policy it runs, compiled with the sidecar's own routing code. Pure. It
 * uses the sidecar's matchRoute and firstRouteForPath (sidecar/src/routing/compile-policy.ts) in the order
 * sidecar/src/proxy/handler.ts applies them:
 *   - GET and HEAD: the first route that caches the method and whose path matches (matchRoute); else,
 *     as for every write, the first route whose path matches whatever its methods; else "none";
 *   - OPTIONS and TRACE (safe, never cached), and GET and HEAD when the policy's mode is Off: "none";
 *   - any other method (a write): the first route whose path matches, whatever its methods; else "none".
 * So a PUT to a route's own path is labelled with that route (and priced inside it by the Improvement
 * panel), and a write to a path no route declares is "none" (outside the panel's `route!="none"`).
 */
import { isSafeMethod, parseSidecarConfigText } from "@apicache/crds";
import {
  type CompiledPolicy,
  compilePolicy,
  firstRouteForPath,
  matchRoute,
} from "@apicache/sidecar/routing/compile-policy";
import { normalizePath, splitTarget } from "@apicache/sidecar/routing/normalize-path";
import { pathSegments } from "@apicache/sidecar/routing/path-matcher";

/** The sidecar's label for requests no route matches (sidecar/src/telemetry/metric-names.ts). */
export const NO_ROUTE = "none";

/** A request's route label: `(method, target)` where the target is the path and query as sent. */
export type RouteOf = (method: string, target: string) => string;

export function sidecarRoute(policy: CompiledPolicy, method: string, target: string): string {
  const segments = pathSegments(normalizePath(splitTarget(target).path));
  if (method === "GET" || method === "HEAD") {
    if (policy.mode === "Off") return NO_ROUTE;
    const match = matchRoute(policy, method, segments);
    if (match) return match.route.name;
  } else if (isSafeMethod(method)) return NO_ROUTE;
  return firstRouteForPath(policy, segments)?.name ?? NO_ROUTE;
}

/** A policy text (a CachePolicy manifest or a SidecarConfig), compiled as the sidecar compiles it. */
export function compilePolicyText(text: string): CompiledPolicy {
  const parsed = parseSidecarConfigText(text);
  if (!parsed.ok) {
    const problems = parsed.problems.map((p) => `${p.path || "(document)"}: ${p.message}`).join("; ");
    throw new Error(`the sidecar's policy does not parse: ${problems}`);
  }
  return compilePolicy(parsed.policy, text);
}

/** The route labeller of a policy text: what a sidecar started with it (its --policy) labels. */
export function policyRoutes(text: string): RouteOf {
  const policy = compilePolicyText(text);
  return (method, target) => sidecarRoute(policy, method, target);
}
