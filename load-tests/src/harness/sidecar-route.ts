/**
 * The route label the sidecar gives a request in its metrics (the `route` label the dashboard's panels
 * group and filter by), from the policy it runs, compiled with the sidecar's own routing code: the very
 * function the sidecar's handler decides with (sidecar/src/routing/request-route.ts). Pure. So a PUT to
 * a route's own path is labelled with that route (and priced inside it by the Improvement panel), and
 * a write to a path no route declares is "none" (outside the panel's `route!="none"`).
 */
import { parseSidecarConfigText } from "@apicache/crds";
import { type CompiledPolicy, compilePolicy } from "@apicache/sidecar/routing/compile-policy";
import { normalizePath, splitTarget } from "@apicache/sidecar/routing/normalize-path";
import { pathSegments } from "@apicache/sidecar/routing/path-matcher";
import { NO_ROUTE, requestRoute, routeLabel } from "@apicache/sidecar/routing/request-route";

export { NO_ROUTE };

/** A request's route label: `(method, target)` where the target is the path and query as sent. */
export type RouteOf = (method: string, target: string) => string;

export function sidecarRoute(policy: CompiledPolicy, method: string, target: string): string {
  const segments = pathSegments(normalizePath(splitTarget(target).path));
  return routeLabel(requestRoute(policy, { method, segments, upgrade: false }));
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
