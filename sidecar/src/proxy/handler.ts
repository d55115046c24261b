import type { IncomingMessage, ServerResponse } from "node:http";
import type { BypassReason } from "../http-cache/cache-outcome.js";
import { firstValue } from "../http-cache/headers.js";
import { requestBypass } from "../http-cache/request-directives.js";
import { cacheKey, pathTag, shadowKey } from "../keys/cache-key.js";
import { fillHeaders, varyView } from "../keys/fill-request.js";
import { forwarded, type Peer } from "../keys/forwarding.js";
import { identityHash, isIdentifying } from "../keys/identity.js";
import { declaredQuery, formatQuery } from "../keys/query.js";
import { type CompiledPolicy, type RouteMatch, routeTags } from "../routing/compile-policy.js";
import { normalizePath, splitTarget } from "../routing/normalize-path.js";
import { pathSegments } from "../routing/path-matcher.js";
import { NO_ROUTE, requestRoute } from "../routing/request-route.js";
import { serveCacheable } from "./cache-path.js";
import type { CacheableRequest } from "./cacheable-request.js";
import type { Exchange, ProxyContext } from "./context.js";
import { passThrough } from "./pass-through.js";
import { serveShadow } from "./shadow.js";
import { serveWrite } from "./write-path.js";

/**
 * The hot path's entry: classify the request (DESIGN.md "Sidecar", steps 1–3) and hand it to the read
 * path, the write path or a pass-through. The policy is read once per request, so a reload never
 * changes the rules under a request in flight.
 */
export function createRequestHandler(ctx: ProxyContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      ctx.log.error({ err: error, method: req.method, path: req.url }, "request failed inside the sidecar");
      if (!res.headersSent) {
        res.writeHead(502, [
          "content-type",
          "text/plain",
          "cache-status",
          "apicache; fwd=bypass; detail=internal-error",
        ]);
        res.end("apicache: internal error\n");
      } else res.destroy();
    });
  };
}

async function handle(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const x: Exchange = { ctx, req, res, started: performance.now(), policy: ctx.policy() };
  const { policy } = x;
  const method = req.method ?? "GET";
  const { path: rawPath, query } = splitTarget(req.url ?? "/");
  const path = normalizePath(rawPath);
  const segments = pathSegments(path);
  const routed = requestRoute(policy, { method, segments, upgrade: req.headers.upgrade !== undefined });
  if (routed.kind === "write") return serveWrite(x, { path, route: routed.route });
  if (routed.kind === "bypass") return passBy(x, routed.reason, routed.route);
  const { match } = routed;
  const requested = requestBypass(req.headers, policy.policy.spec.clientNoCache);
  if (requested) return passBy(x, requested, match.route.name);
  const identifying = isIdentifying(req.headers, policy.identity);
  if (identifying && match.route.rules.scope === "Public")
    return passBy(x, "identifying-request", match.route.name);

  const peer = {
    encrypted: false,
    ...(req.socket.remoteAddress ? { address: req.socket.remoteAddress } : {}),
  };
  const c = cacheableRequest(ctx, req, { policy, match, path, query, started: x.started, peer });
  if (policy.mode === "Shadow") return serveShadow(x, { ...c, key: shadowKey(c.key) });
  return serveCacheable(x, c);
}

/** A bypassed request, streamed through (a function, not a closure per request: hits never bypass). */
function passBy(x: Exchange, reason: BypassReason, route = NO_ROUTE): Promise<void> {
  return passThrough(x, { route, outcome: { kind: "bypass", reason } });
}

interface Classified {
  readonly policy: CompiledPolicy;
  readonly match: RouteMatch;
  readonly path: string;
  readonly query: string;
  readonly started: number;
  /** The client connection (none for a warming request). */
  readonly peer?: Peer;
}

export function cacheableRequest(
  ctx: Pick<ProxyContext, "upstream">,
  req: Pick<IncomingMessage, "headers" | "method">,
  classified: Classified,
): CacheableRequest {
  const { policy, match, path } = classified;
  const { route } = match;
  const host = firstValue(req.headers.host) ?? ctx.upstream.host;
  const pairs = declaredQuery(classified.query, route.keyQuery);
  const canonicalQuery = formatQuery(pairs);
  const perUser = route.rules.scope === "PerUser";
  const hash = perUser ? identityHash(req.headers, policy.identity) : undefined;
  const to = forwarded(req.headers, host, classified.peer ?? { encrypted: false }, policy.forwarding.trusted);
  // Both built on first use: a hit needs neither (only fills send headers; only a stored Vary is
  // matched). A getter would make every request object slower to create and read.
  let fill: Record<string, string> | undefined;
  const filled = () => {
    fill ??= fillHeaders({
      headers: req.headers,
      keyHeaders: route.keyHeaders,
      scope: route.rules.scope,
      identity: policy.identity,
      forwarded: to,
      forwardOnly: policy.forwarding.headers,
    });
    return fill;
  };
  let view: ReturnType<typeof varyView> | undefined;
  return {
    policy,
    route,
    key: cacheKey({
      method: req.method ?? "GET",
      scheme: to.proto,
      host,
      forwardedHost: to.host,
      path,
      query: pairs,
      keyHeaders: route.keyHeaders,
      headers: req.headers,
      scope: route.rules.scope,
      identityHeaders: policy.identity.headers,
      identityHash: hash || undefined,
    }),
    tags: [...routeTags(match), pathTag(path)],
    fillPath: canonicalQuery ? `${path}?${canonicalQuery}` : path,
    fillHeaders: filled,
    varyHeaders: () => {
      view ??= varyView(req.headers, filled());
      return view;
    },
    identityHeaders: policy.identity.headers,
    requestAuthorized: req.headers.authorization !== undefined,
    started: classified.started,
  };
}
