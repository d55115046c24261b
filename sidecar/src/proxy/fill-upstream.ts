import type { UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import type { CacheEntry } from "../http-cache/entry.js";
import type { Headers } from "../http-cache/headers.js";
import { responseCacheControl } from "../http-cache/targeted.js";
import { varyNames } from "../http-cache/vary.js";
import { unsentVaried, withVaried } from "../keys/fill-request.js";
import type { CollectedBody } from "./body-collector.js";
import type { CacheableRequest } from "./cacheable-request.js";
import type { FillResult, ProxyContext } from "./context.js";
import { type UpstreamResponse, upstreamErrorReason } from "./upstream.js";

/**
 * What a fill asks the upstream, and how it reads the answer: the first request's header fields (with
 * the fields its variants and the route's responses vary on, ADR 0013), the one retry for a variant
 * the client's request selects, and what an answer allows (shared with waiters, or not).
 */

/** The upstream's answer to a fill's request, or the reason it failed (logged). */
export type Answer = UpstreamResponse | { readonly status: 0; readonly reason: UpstreamErrorReason };

/** A request the fill sent: its header fields, and which of them lie outside the key. */
export interface Ask {
  readonly sent: Record<string, string>;
  readonly beyondKey: readonly string[];
}

/**
 * The fill's headers: the key's, plus the fields the key's stored responses vary on and those the
 * route's responses have varied on (ADR 0013). `beyondKey` lists those extra fields: whatever the
 * answer's Vary says, it is stored as a variant of them, since they reached the upstream.
 */
export function firstAsk(
  ctx: ProxyContext,
  c: CacheableRequest,
  options: { readonly varied?: readonly string[]; readonly stale?: CacheEntry },
): Ask {
  const beyondKey = [
    ...new Set([
      ...(options.varied ?? []),
      ...(options.stale?.vary.map(([name]) => name) ?? []),
      // Only for a key with nothing stored yet: a stored key keeps its own fields, so the secondary keys
      // of its variants stay the same while the route learns more.
      ...((options.varied?.length ?? 0) === 0 && options.stale === undefined
        ? ctx.learnedVary.names(c.route.name, ctx.now())
        : []),
    ]),
  ];
  return { sent: withVaried(c.fillHeaders(), beyondKey, c.varyHeaders()), beyondKey };
}

/**
 * An answer that varies on a field the client sent and the fill did not is not the client's variant:
 * asks once more with those fields (later fills of the key send them from the start).
 */
export async function askForVariant(
  ctx: ProxyContext,
  c: CacheableRequest,
  response: Answer,
  sent: Record<string, string>,
): Promise<{ response: Answer; sent: Record<string, string>; asked: readonly string[] }> {
  if ("reason" in response) return { response, sent, asked: [] };
  const unsent = unsentVaried(response.headers.vary, sent, c.varyHeaders());
  if (unsent.length === 0) return { response, sent, asked: [] };
  response.body.on("error", () => {}).destroy(); // undici reports the abort as an error
  const more = withVaried(sent, unsent, c.varyHeaders());
  return { response: await request(ctx, c, more, {}), sent: more, asked: unsent };
}

/** The fill's upstream request; a failure is logged and resolves to its reason. */
export async function request(
  ctx: ProxyContext,
  c: CacheableRequest,
  sent: Readonly<Record<string, string>>,
  validators: Readonly<Record<string, string>>,
): Promise<Answer> {
  try {
    return await ctx.upstream.request({
      method: "GET",
      path: c.fillPath,
      headers: { ...sent, ...validators },
      timeoutMs: c.policy.upstreamTimeoutMs,
      lane: "fill",
    });
  } catch (error) {
    const reason = upstreamErrorReason(error);
    ctx.log.warn({ err: error, route: c.route.name, path: c.fillPath, reason }, "cache fill failed");
    return { status: 0, reason };
  }
}

/** Reports the time the upstream took for a fill, with the error if it failed. */
export function upstreamTimer(ctx: ProxyContext, c: CacheableRequest): (error?: UpstreamErrorReason) => void {
  const started = performance.now();
  return (error) =>
    ctx.observer.upstream(c.policy.label, c.route.name, (performance.now() - started) / 1000, error);
}

/** A response no waiter may share unless it is storable: per-user or explicitly unshareable. */
export function shareable(headers: Headers): boolean {
  if (headers["set-cookie"] !== undefined) return false;
  const { cc } = responseCacheControl(headers);
  if (cc.noStore || cc.private) return false;
  return varyNames(headers.vary)[0] !== "*";
}

/** Logs a body that stalled or broke off while being buffered for storage; the fill failed. */
export function brokenBody(
  ctx: ProxyContext,
  c: CacheableRequest,
  collected: Extract<CollectedBody, { kind: "stalled" | "truncated" }>,
): FillResult {
  if (collected.kind === "stalled") {
    ctx.log.warn(
      {
        route: c.route.name,
        path: c.fillPath,
        idleMs: collected.idleMs,
        code: "APICACHE_ERR_UPSTREAM_TIMEOUT",
      },
      "upstream body stalled while being cached; not stored",
    );
    return { kind: "error", reason: "timeout" };
  }
  ctx.log.warn(
    { err: collected.error, route: c.route.name, path: c.fillPath },
    "upstream body truncated; not stored",
  );
  return { kind: "error", reason: "truncated" };
}
