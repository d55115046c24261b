import { firstValue, type Headers } from "../http-cache/headers.js";
import { pathTag } from "../keys/cache-key.js";
import { jsonObjectBody } from "../routing/body-fields.js";
import type { CompiledPolicy } from "../routing/compile-policy.js";
import { matchInvalidations } from "../routing/compile-policy.js";
import { normalizePath, splitTarget } from "../routing/normalize-path.js";
import { INVALIDATION_RULE_TARGET_URI } from "../telemetry/metric-names.js";
import type { Exchange, ProxyContext } from "./context.js";
import { passThrough } from "./pass-through.js";

/**
 * Unsafe methods: the request body streams to the upstream; on a 2xx/3xx answer the matching invalidate
 * rules' tags and the target URI (plus same-origin Location / Content-Location, RFC 9111 §4.4) are
 * dropped — awaited before the response is released, so a read after the write's response never sees
 * the old entry. Rules with body fields read them from the request body when the proxy buffered it
 * whole (up to HOLD_LIMIT_BYTES, with a Content-Length), else use their fallback tags. A failed write
 * (4xx/5xx, or a refused connection) invalidates nothing. When the
 * outcome is unknown — the upstream timed out or dropped the connection after the request reached it,
 * so the write may have been applied — the rules and the target URI are invalidated all the same:
 * dropping entries costs a refetch, keeping them may serve pre-write data until they expire.
 * https://www.rfc-editor.org/rfc/rfc9111#section-4.4
 */
export function serveWrite(
  x: Exchange,
  write: { readonly path: string; readonly route: string },
): Promise<void> {
  const { ctx, req, policy } = x;
  const { path } = write;
  const method = req.method ?? "POST";
  let requestBody: Buffer | undefined;
  const invalidate = (related: readonly string[]) =>
    invalidateWrite(ctx, { policy, method, path, related }, () =>
      jsonObjectBody(requestBody, req.headers["content-type"]),
    );
  return passThrough(x, {
    route: write.route,
    outcome: { kind: "bypass", reason: "unsafe-method" },
    lane: "write",
    onRequestBody: (body) => {
      requestBody = body;
    },
    beforeHead: async (status, headers) => {
      if (status < 200 || status >= 400) return undefined;
      await invalidate(relatedPaths(headers, firstValue(req.headers.host)));
      return undefined;
    },
    onUpstreamError: async (reason) => {
      // Refused, or its lane stayed busy: the request never reached the upstream, nothing was written.
      if (reason !== "refused" && reason !== "busy") await invalidate([]);
    },
  });
}

/**
 * What a successful (or possibly applied) write invalidates: its matching rules' tags and its target
 * URI plus `related` paths. Resolves once the store has dropped them (failures are logged, not thrown).
 */
export async function invalidateWrite(
  ctx: ProxyContext,
  write: {
    readonly policy: CompiledPolicy;
    readonly method: string;
    readonly path: string;
    readonly related: readonly string[];
  },
  body: () => Readonly<Record<string, unknown>> | undefined = () => undefined,
): Promise<void> {
  const { policy, path } = write;
  const matches = matchInvalidations(policy, write.method, path, body);
  const tags = new Set(matches.flatMap((match) => match.tags));
  tags.add(pathTag(path));
  for (const other of write.related) tags.add(pathTag(other));
  await ctx.invalidator.invalidate({
    policy: policy.label,
    source: "write",
    rules: [...matches.map((match) => match.rule), INVALIDATION_RULE_TARGET_URI],
    tags: [...tags],
    keys: [],
  });
}

/** Normalized paths of same-origin Location and Content-Location values (RFC 9111 §4.4). */
export function relatedPaths(headers: Headers, host: string | undefined): string[] {
  const paths: string[] = [];
  for (const name of ["location", "content-location"]) {
    const value = firstValue(headers[name]);
    if (value === undefined || value === "") continue;
    const path = sameOriginPath(value, host);
    if (path !== undefined) paths.push(normalizePath(path));
  }
  return paths;
}

function sameOriginPath(reference: string, host: string | undefined): string | undefined {
  if (reference.startsWith("/") && !reference.startsWith("//")) return splitTarget(reference).path;
  try {
    const url = new URL(reference);
    if (host === undefined || url.host.toLowerCase() !== host.toLowerCase()) return undefined;
    return url.pathname;
  } catch {
    return undefined;
  }
}
