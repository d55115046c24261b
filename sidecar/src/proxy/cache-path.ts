import type { CacheOutcome, ForwardReason, UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import type { CacheEntry } from "../http-cache/entry.js";
import { entryState, ttlSeconds, usableOnError } from "../http-cache/freshness.js";
import { report } from "../telemetry/request-observer.js";
import { type CacheableRequest, matchesVary } from "./cacheable-request.js";
import type { Flight } from "./coalescer.js";
import type { Exchange, FillResult, ProxyContext } from "./context.js";
import { fill, type PassResponse } from "./fill.js";
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

/**
 * `again`: the second look, after joining a flight whose answer this request could not take (its store
 * was sent before the request joined, or its fence refused it — coalescer.ts): the store is read again,
 * and a flight found then is only joined if its answer can be taken; else the request fetches alone.
 * A request counts as coalesced once, on its first look.
 */
export async function serveCacheable(x: Exchange, c: CacheableRequest, again = false): Promise<void> {
  const { ctx } = x;
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
    return finish(x, c, outcome, writeEntry(x, lookup.entry, outcome, now));
  }
  if (lookup.kind === "stale-while-revalidate") {
    const outcome: CacheOutcome = { kind: "stale-while-revalidate", ttl: ttlSeconds(lookup.entry, now) };
    const status = writeEntry(x, lookup.entry, outcome, now);
    refreshInBackground(ctx, c, lookup.entry);
    return finish(x, c, outcome, status);
  }
  // A fill of this key that ran while the store was read: its (stored) result is as new as a read.
  const ended = watch.ended();
  if (
    ended?.kind === "entry" &&
    ended.stored &&
    entryState(ended.entry, now) === "fresh" &&
    matchesVary(ended.entry.vary, c)
  ) {
    if (!again) ctx.observer.coalesced(c.policy.label, c.route.name);
    return serveResult(x, c, ended, { stale: lookup.stale, coalesced: true });
  }
  // Hit-for-pass: the last answer for this key could not be shared; do not queue behind a leader.
  if (ctx.coalescer.passMarks.passes(c.key, now)) {
    return fillAndServe(x, c, lookup, { coalesce: false, varied });
  }
  const flight = ctx.coalescer.current(c.key);
  if (flight) return joinFlight(x, c, flight, { lookup, varied, again });
  return fillAndServe(x, c, lookup, { coalesce: true, varied });
}

/** Where a request stands when it joins a flight: its lookup, the fields it varies on, which look. */
interface Joining {
  readonly lookup: Extract<Lookup, { kind: "fill" }>;
  readonly varied: readonly string[];
  readonly again: boolean;
}

/** Waits for another request's fill, and serves its answer when this request may take it. */
async function joinFlight(
  x: Exchange,
  c: CacheableRequest,
  flight: Flight<FillResult>,
  { lookup, varied, again }: Joining,
): Promise<void> {
  const { ctx } = x;
  // Led after this request arrived (on a second look: by then any other flight was): its answer is new
  // enough whatever its store's verdict, even refused (coalescer.ts).
  const newer = flight.startedAt >= x.started;
  // Joined after the leader's store was sent: its answer may predate a write that ended before this
  // request arrived, which the store's fence could not see (coalescer.ts).
  const late = flight.storeSent && !newer;
  if (!again) ctx.observer.coalesced(c.policy.label, c.route.name);
  const settled = await flight.result;
  const result = newer && settled.kind === "superseded" ? settled.answer : settled;
  if (late || result.kind === "superseded") {
    if (!again) return serveCacheable(x, c, true);
    return fillAndServe(x, c, lookup, { coalesce: false, varied });
  }
  if (result.kind === "pass" || (result.kind === "entry" && !matchesVary(result.entry.vary, c))) {
    const learned = result.kind === "entry" ? result.entry.vary.map(([name]) => name) : [];
    return fillAndServe(x, c, lookup, { coalesce: false, varied: [...varied, ...learned] });
  }
  return serveResult(x, c, result, { stale: await staleOnError(ctx, c, lookup, result), coalesced: true });
}

/** Leads a fill (or, uncoalesced, repeats one for a waiter whose leader could not share). */
async function fillAndServe(
  x: Exchange,
  c: CacheableRequest,
  lookup: Extract<Lookup, { kind: "fill" }>,
  options: { readonly coalesce: boolean; readonly varied: readonly string[] },
): Promise<void> {
  const { ctx } = x;
  const { result, stream } = await fill(ctx, c, lookup.fwd, {
    ...options,
    ...(lookup.stale ? { stale: lookup.stale } : {}),
  });
  if (!stream) return serveResult(x, c, result, { stale: await staleOnError(ctx, c, lookup, result) });
  const stale = stream.status >= 500 ? await staleOnError(ctx, c, lookup, undefined) : undefined;
  if (stale && usableOnError(stale, ctx.now())) {
    stream.body.destroy();
    return serveStale(x, c, stale, { error: "status_5xx", fwdStatus: stream.status });
  }
  // Streamed through, not stored: it must not hold a fill connection (upstream.ts, lanes).
  if (stream.moveTo !== undefined && !stream.moveTo("pass")) {
    stream.body.destroy();
    const outcome: CacheOutcome = { kind: "error", fwd: lookup.fwd, error: "busy" };
    // The fill observed this upstream request already: count the error, not a second request.
    ctx.observer.upstreamError(c.policy.label, c.route.name, "busy");
    return finish(x, c, outcome, writeUpstreamError(x.res, "busy", outcome));
  }
  return streamUncached(x, c, stream, lookup.fwd);
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

/** How a fill's result reaches this request: the stale entry to fall back on, and whether it waited. */
interface Serving {
  readonly stale: CacheEntry | undefined;
  /** Waited for another request's fill (a coalesced hit, not a miss). */
  readonly coalesced?: boolean;
}

function serveResult(
  x: Exchange,
  c: CacheableRequest,
  result: FillResult,
  { stale, coalesced }: Serving,
): void {
  const now = x.ctx.now();
  if (result.kind === "error") {
    if (stale && usableOnError(stale, now)) {
      serveStale(x, c, stale, { error: result.reason });
      return;
    }
    const outcome: CacheOutcome = { kind: "error", fwd: stale ? "stale" : "uri-miss", error: result.reason };
    finish(x, c, outcome, writeUpstreamError(x.res, result.reason, outcome));
    return;
  }
  if (result.kind === "pass" || result.kind === "superseded") return; // handled by the caller
  const { entry } = result;
  if (entry.status >= 500 && stale && usableOnError(stale, now)) {
    serveStale(x, c, stale, { error: "status_5xx", fwdStatus: entry.status });
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
  } else if (coalesced === true || result.peer)
    outcome = { kind: "hit", ttl: ttlSeconds(entry, now), coalesced: true };
  else outcome = { kind: "miss", fwd: result.fwd, fwdStatus: result.fwdStatus ?? entry.status };
  finish(x, c, outcome, writeEntry(x, entry, outcome, now));
}

/** Why the upstream's answer could not be used: its error, and the status it answered with, if any. */
interface UpstreamFailure {
  readonly error: UpstreamErrorReason;
  readonly fwdStatus?: number;
}

function serveStale(
  x: Exchange,
  c: CacheableRequest,
  stale: CacheEntry,
  { error, fwdStatus }: UpstreamFailure,
): void {
  const now = x.ctx.now();
  if (error === "refused") x.res.shouldKeepAlive = false; // as writeUpstreamError: reconnect elsewhere
  const outcome: CacheOutcome = {
    kind: "stale-if-error",
    ttl: ttlSeconds(stale, now),
    error,
    ...(fwdStatus === undefined ? {} : { fwdStatus }),
  };
  finish(x, c, outcome, writeEntry(x, stale, outcome, now));
}

/** Streams a response that is not stored, without buffering the rest of it. */
function streamUncached(
  x: Exchange,
  c: CacheableRequest,
  stream: PassResponse,
  fwd: ForwardReason,
): Promise<void> {
  const { req, res } = x;
  const outcome: CacheOutcome = { kind: "uncacheable", fwd, fwdStatus: stream.status, reason: stream.reason };
  res.writeHead(stream.status, upstreamHead(stream.headers, outcome));
  if (req.method === "HEAD") {
    stream.body.destroy();
    res.end();
    finish(x, c, outcome, stream.status);
    return Promise.resolve();
  }
  for (const chunk of stream.head) res.write(chunk);
  return new Promise((resolve) => {
    pipeUpstream(stream.body, res, (error) => {
      if (error)
        x.ctx.log.debug({ err: error, route: c.route.name }, "streaming an uncached response ended early");
      finish(x, c, outcome, stream.status);
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

function finish(x: Exchange, c: CacheableRequest, outcome: CacheOutcome, status: number): void {
  report(x, c.route.name, status, outcome);
}
