import { shadowKey } from "../keys/cache-key.js";
import type { ProxyContext } from "../proxy/context.js";
import { fill } from "../proxy/fill.js";
import { cacheableRequest } from "../proxy/handler.js";
import { matchRoute } from "../routing/compile-policy.js";
import { normalizePath, splitTarget } from "../routing/normalize-path.js";
import { pathSegments } from "../routing/path-matcher.js";

/** What warming one path did (the admin API's answer per path). */
export interface WarmResult {
  readonly path: string;
  readonly ok: boolean;
  readonly status?: number;
  readonly stored?: boolean;
  readonly error?: string;
}

/** One forced refresh of a path through the cache path (warming), keyed as a request for `host`. */
export async function handleFill(
  ctx: ProxyContext,
  policy: ReturnType<ProxyContext["policy"]>,
  target: string,
  host: string,
): Promise<WarmResult> {
  if (policy.mode === "Off") return { path: target, ok: false, error: "mode is Off" };
  const { path: raw, query } = splitTarget(target);
  const path = normalizePath(raw);
  const match = matchRoute(policy, "GET", pathSegments(path));
  if (!match) return { path: target, ok: false, error: "no route caches this path" };
  const base = cacheableRequest(
    ctx,
    { method: "GET", headers: { host } },
    { policy, match, path, query, started: performance.now() },
  );
  const c = policy.mode === "Shadow" ? { ...base, key: shadowKey(base.key) } : base;
  const flight = ctx.coalescer.current(c.key);
  const result = flight ? await flight.result : (await fillAndDrop(ctx, c)).result;
  if (result.kind === "error") return { path: target, ok: false, error: `upstream ${result.reason}` };
  if (result.kind === "pass") return { path: target, ok: false, error: "the response is not storable" };
  if (result.kind === "superseded")
    return { path: target, ok: false, error: "a write superseded the refresh" };
  const { status } = result.entry;
  return result.stored
    ? { path: target, ok: true, status, stored: true }
    : { path: target, ok: false, status, stored: false, error: `not stored: ${result.reason ?? "status"}` };
}

async function fillAndDrop(ctx: ProxyContext, c: Parameters<typeof fill>[1]) {
  const outcome = await fill(ctx, c, "stale", { refresh: true });
  outcome.stream?.body.destroy();
  return outcome;
}
