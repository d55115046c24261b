import type { IncomingMessage, ServerResponse } from "node:http";
import type { CacheOutcome, ForwardReason, UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import type { CacheEntry } from "../http-cache/entry.js";
import { entryState, ttlSeconds, usableOnError } from "../http-cache/freshness.js";
import { type CacheableRequest, matchesVary } from "./cacheable-request.js";
import type { FillResult, ProxyContext } from "./context.js";
import { fill, type PassResponse } from "./fill.js";
import { report } from "./pass-through.js";
import { upstreamHead, writeEntry, writeUpstreamError } from "./respond.js";
import { readVariant } from "./variants.js";
import { pipeUpstream } from "./write-timeout.js";

/**
 * The read path of a cached route (RFC 9111 §4): look up → fresh: serve; stale within
 * staleWhileRevalidate: serve and refresh once in the background; otherwise fill (coalesced: one
 * upstream request per key) and serve stale on upstream failure within staleIfError.
 */
export type Lookup =
  | { readonly kind: "fresh"; readonly entry: CacheEntry }
  | { readonly kind: "stale-while-revalidate"; readonly entry: CacheEntry }
  | {
      readonly kind: "fill";
      readonly fwd: ForwardReason;
      readonly stale?: CacheEntry;
      /** The store did not answer the read: a stale entry may exist (looked for again on error). */
      readonly unknown?: boolean;
    };

export function classifyLookup(entry: CacheEntry | undefined, c: CacheableRequest, now: number): Lookup {
  if (entry === undefined) return { kind: "fill", fwd: "uri-miss" };
  if (!matchesVary(entry.vary, c)) return { kind: "fill", fwd: "vary-miss" };
  const state = entryState(entry, now);
  if (state === "fresh") return { kind: "fresh", entry };
  if (state === "stale-while-revalidate") return { kind: "stale-while-revalidate", entry };
  return { kind: "fill", fwd: "stale", stale: entry };
}

export async function serveCacheable(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  c: CacheableRequest,
): Promise<void> {
  const watch = ctx.coalescer.watch(c.key);
  let read: Awaited<ReturnType<typeof readVariant>>;
  try {
    read = await readVariant(ctx, c);
  } finally {
    watch.close();
  }
  const { varied } = read;
  const now = ctx.now();
  const classified = classifyLookup(read.entry, c, now);
  const lookup = read.failed && classified.kind === "fill" ? { ...classified, unknown: true } : classified;
  if (lookup.kind === "fresh") {
    const outcome: CacheOutcome = { kind: "hit", ttl: ttlSeconds(lookup.entry, now) };
    return finish(ctx, req, c, outcome, writeEntry(req, res, lookup.entry, outcome, now));
  }
  if (lookup.kind === "stale-while-revalidate") {
    const outcome: CacheOutcome = { kind: "stale-while-revalidate", ttl: ttlSeconds(lookup.entry, now) };
    const status = writeEntry(req, res, lookup.entry, outcome, now);
    refreshInBackground(ctx, c, lookup.entry);
    return finish(ctx, req, c, outcome, status);
  }
  // A fill of this key that ran while the store was read: its (stored) result is as new as a read.
  const ended = watch.ended();
  if (
    ended?.kind === "entry" &&
    ended.stored &&
    entryState(ended.entry, now) === "fresh" &&
    matchesVary(ended.entry.vary, c)
  ) {
    ctx.observer.coalesced(c.policy.label, c.route.name);
    return serveResult(ctx, req, res, c, ended, lookup.stale, true);
  }
  // Hit-for-pass: the last answer for this key could not be shared; do not queue behind a leader.
  if (ctx.coalescer.passMarks.passes(c.key, now)) {
    return fillAndServe(ctx, req, res, c, lookup, { coalesce: false, varied });
  }
  const flight = ctx.coalescer.current(c.key);
  if (flight) {
    ctx.observer.coalesced(c.policy.label, c.route.name);
    const result = await flight.result;
    if (result.kind === "pass" || (result.kind === "entry" && !matchesVary(result.entry.vary, c))) {
      const learned = result.kind === "entry" ? result.entry.vary.map(([name]) => name) : [];
      return fillAndServe(ctx, req, res, c, lookup, { coalesce: false, varied: [...varied, ...learned] });
    }
    return serveResult(ctx, req, res, c, result, await staleOnError(ctx, c, lookup, result), true);
  }
  return fillAndServe(ctx, req, res, c, lookup, { coalesce: true, varied });
}

/** Leads a fill (or, uncoalesced, repeats one for a waiter whose leader could not share). */
async function fillAndServe(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  c: CacheableRequest,
  lookup: Extract<Lookup, { kind: "fill" }>,
  options: { readonly coalesce: boolean; readonly varied: readonly string[] },
): Promise<void> {
  const { result, stream } = await fill(ctx, c, lookup.fwd, {
    ...options,
    ...(lookup.stale ? { stale: lookup.stale } : {}),
  });
  if (!stream)
    return serveResult(ctx, req, res, c, result, await staleOnError(ctx, c, lookup, result), false);
  const stale = stream.status >= 500 ? await staleOnError(ctx, c, lookup, undefined) : undefined;
  if (stale && usableOnError(stale, ctx.now())) {
    stream.body.destroy();
    return serveStale(ctx, req, res, c, stale, "status_5xx", stream.status);
  }
  // Streamed through, not stored: it must not hold a fill connection (upstream.ts, lanes).
  if (stream.moveTo !== undefined && !stream.moveTo("pass")) {
    stream.body.destroy();
    const outcome: CacheOutcome = { kind: "error", fwd: lookup.fwd, error: "busy" };
    ctx.observer.upstream(c.policy.label, c.route.name, 0, "busy");
    return finish(ctx, req, c, outcome, writeUpstreamError(res, "busy", outcome));
  }
  return streamUncached(ctx, req, res, c, stream, lookup.fwd);
}

/**
 * The stale entry to fall back on when the upstream failed. When the store did not answer the
 * request's read (a timeout on a starved process, a blip), "no entry" only meant "unknown": it is
 * read once more before the client gets a 502 for an entry the store still holds.
 */
async function staleOnError(
  ctx: ProxyContext,
  c: CacheableRequest,
  lookup: Extract<Lookup, { kind: "fill" }>,
  result: FillResult | undefined,
): Promise<CacheEntry | undefined> {
  if (lookup.stale !== undefined || !lookup.unknown) return lookup.stale;
  const failed =
    result === undefined ||
    result.kind === "error" ||
    (result.kind === "entry" && result.entry.status >= 500);
  if (!failed) return undefined;
  const again = (await readVariant(ctx, c)).entry;
  return again !== undefined && matchesVary(again.vary, c) ? again : undefined;
}

function serveResult(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  c: CacheableRequest,
  result: FillResult,
  stale: CacheEntry | undefined,
  coalesced: boolean,
): void {
  const now = ctx.now();
  if (result.kind === "error") {
    if (stale && usableOnError(stale, now)) {
      serveStale(ctx, req, res, c, stale, result.reason);
      return;
    }
    const outcome: CacheOutcome = { kind: "error", fwd: stale ? "stale" : "uri-miss", error: result.reason };
    finish(ctx, req, c, outcome, writeUpstreamError(res, result.reason, outcome));
    return;
  }
  if (result.kind === "pass") return; // handled by the caller
  const { entry } = result;
  if (entry.status >= 500 && stale && usableOnError(stale, now)) {
    serveStale(ctx, req, res, c, stale, "status_5xx", entry.status);
    return;
  }
  let outcome: CacheOutcome;
  if (!result.stored) {
    outcome = {
      kind: "uncacheable",
      fwd: result.fwd,
      fwdStatus: result.fwdStatus ?? entry.status,
      reason: result.reason ?? "status",
    };
  } else if (coalesced || result.peer)
    outcome = { kind: "hit", ttl: ttlSeconds(entry, now), coalesced: true };
  else outcome = { kind: "miss", fwd: result.fwd, fwdStatus: result.fwdStatus ?? entry.status };
  finish(ctx, req, c, outcome, writeEntry(req, res, entry, outcome, now));
}

function serveStale(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  c: CacheableRequest,
  stale: CacheEntry,
  error: UpstreamErrorReason,
  fwdStatus?: number,
): void {
  const now = ctx.now();
  if (error === "refused") res.shouldKeepAlive = false; // as writeUpstreamError: reconnect elsewhere
  const outcome: CacheOutcome = {
    kind: "stale-if-error",
    ttl: ttlSeconds(stale, now),
    error,
    ...(fwdStatus === undefined ? {} : { fwdStatus }),
  };
  finish(ctx, req, c, outcome, writeEntry(req, res, stale, outcome, now));
}

/** Streams a response that is not stored, without buffering the rest of it. */
function streamUncached(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  c: CacheableRequest,
  stream: PassResponse,
  fwd: ForwardReason,
): Promise<void> {
  const outcome: CacheOutcome = { kind: "uncacheable", fwd, fwdStatus: stream.status, reason: stream.reason };
  res.writeHead(stream.status, upstreamHead(stream.headers, outcome));
  if (req.method === "HEAD") {
    stream.body.destroy();
    res.end();
    finish(ctx, req, c, outcome, stream.status);
    return Promise.resolve();
  }
  for (const chunk of stream.head) res.write(chunk);
  return new Promise((resolve) => {
    pipeUpstream(stream.body, res, (error) => {
      if (error)
        ctx.log.debug({ err: error, route: c.route.name }, "streaming an uncached response ended early");
      finish(ctx, req, c, outcome, stream.status);
      resolve();
    });
  });
}

/**
 * Stale-while-revalidate: one background fill per key (conditional when the stale entry has a
 * validator); concurrent stale hits find its flight.
 */
export function refreshInBackground(ctx: ProxyContext, c: CacheableRequest, stale: CacheEntry): void {
  if (ctx.coalescer.current(c.key)) return;
  fill(ctx, c, "stale", { stale })
    .then(({ stream }) => stream?.body.destroy())
    .catch((error: unknown) =>
      ctx.log.warn({ err: error, route: c.route.name }, "background refresh failed"),
    );
}

function finish(
  ctx: ProxyContext,
  req: IncomingMessage,
  c: CacheableRequest,
  outcome: CacheOutcome,
  status: number,
): void {
  report(ctx, c.policy.label, req, c.started, c.route.name, status, outcome);
}
