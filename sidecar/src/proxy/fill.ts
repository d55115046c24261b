import type { Readable } from "node:stream";
import type { ForwardReason, NotStoredReason, UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import type { CacheEntry } from "../http-cache/entry.js";
import { encodeEntry } from "../http-cache/entry-codec.js";
import { storeLifetimeMs } from "../http-cache/freshness.js";
import { flattenHeaders, type Headers } from "../http-cache/headers.js";
import { freshenedHeaders, selectsStored, validatorsOf } from "../http-cache/revalidation.js";
import { type Storability, storability } from "../http-cache/storability.js";
import { responseCacheControl } from "../http-cache/targeted.js";
import { varyNames, varyValues } from "../http-cache/vary.js";
import { variantKey } from "../keys/cache-key.js";
import { fillable, unsentVaried, withVaried } from "../keys/fill-request.js";
import type { Fence } from "../store/types.js";
import { collectBody } from "./body-collector.js";
import type { CacheableRequest } from "./cacheable-request.js";
import type { FillResult, ProxyContext } from "./context.js";
import { crossPodStep, type LateFill } from "./cross-pod.js";
import { HIT_FOR_PASS_MS } from "./pass-marks.js";
import { type UpstreamResponse, upstreamErrorReason } from "./upstream.js";

/**
 * A cache fill: the one upstream request for a key (the coalescing leader). It stores what RFC 9111
 * allows, wakes every waiter with the result, and — when the response cannot be shared (Set-Cookie,
 * private, over maxBodyBytes) — hands the response back to the leader to stream, unbuffered.
 */
export interface FillOutcome {
  readonly result: FillResult;
  /** For "pass": the response to stream (already-read head chunks, then the rest). */
  readonly stream?: PassResponse;
}

export interface PassResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly head: readonly Buffer[];
  readonly body: Readable;
  readonly reason: NotStoredReason;
  /** Moves the connection to the upstream's "pass" lane before streaming (false: that lane is full). */
  readonly moveTo?: UpstreamResponse["moveTo"];
}

/** Fields never stored: recomputed on every hit, or per-connection. */
const NOT_STORED: ReadonlySet<string> = new Set(["age", "content-length", "cache-status", "set-cookie"]);
/**
 * Fields left out of a response that is not stored (it is only handed to the leader and its waiters):
 * its Age is forwarded as the upstream sent it (RFC 9111 §5.1 counts this cache's time only for
 * responses it stored).
 */
const NOT_FORWARDED: ReadonlySet<string> = new Set(["content-length", "cache-status", "set-cookie"]);

export interface FillOptions {
  /** Lead a coalesced flight (default), or fetch alone (a waiter whose leader could not share). */
  readonly coalesce?: boolean;
  /** The stored response being replaced: with a validator, the fill is conditional (revalidation). */
  readonly stale?: CacheEntry;
  /** Fields a stored response of this key varies on: the fill sends the request's values of them. */
  readonly varied?: readonly string[];
  /** A forced refresh (warming): a fresh stored entry is no reason not to ask the upstream. */
  readonly refresh?: boolean;
}

export async function fill(
  ctx: ProxyContext,
  c: CacheableRequest,
  fwd: ForwardReason,
  options: FillOptions = {},
): Promise<FillOutcome> {
  const coalesce = options.coalesce ?? true;
  const flight = coalesce ? ctx.coalescer.lead(c.key, c.tags) : ctx.coalescer.solo(c.key, c.tags);
  let settled = false;
  let release: (() => Promise<void>) | undefined;
  // The lease (cross-pod.ts) is released after the flight ends: once the entry is stored.
  const done = () => {
    flight.end();
    void release?.();
  };
  const finish = (outcome: FillOutcome, storing?: Promise<void>): FillOutcome => {
    // Answered already by the late fill of another pod (cross-pod.ts): this one's answer is dropped.
    if (settled) {
      outcome.stream?.body.destroy();
      return outcome;
    }
    settled = true;
    flight.resolve(outcome.result);
    if (storing) storing.finally(done);
    else done();
    return outcome;
  };
  try {
    const stepping = coalesce ? crossPodStep(ctx, c, fwd, options.refresh === true) : undefined;
    // In the lease's round trip. Taken before a wait, it is only older: it refuses more, never less.
    const fencing = takeFence(ctx, c);
    const step = await stepping;
    if (step?.kind === "served") return finish({ result: step.result });
    release = step?.release;
    const own = fillLed(ctx, c, fwd, { ...options, fencing }, finish);
    return await (step?.late ? firstAnswer(own, step.late, finish) : own);
  } catch (error) {
    // A bug must not strand the waiters: they fetch for themselves, as after an unshareable answer.
    if (!settled) {
      settled = true;
      flight.resolve({ kind: "pass" });
      done();
    }
    throw error;
  }
}

/** This pod's fill, or the late fill of another pod if its entry lands first (cross-pod.ts). */
function firstAnswer(
  own: Promise<FillOutcome>,
  late: LateFill,
  finish: (outcome: FillOutcome) => FillOutcome,
): Promise<FillOutcome> {
  own.then(late.cancel, late.cancel);
  return Promise.race([own, late.landed.then((result) => finish({ result }))]);
}

async function fillLed(
  ctx: ProxyContext,
  c: CacheableRequest,
  fwd: ForwardReason,
  options: FillOptions & { readonly fencing: Promise<Fence> },
  finish: (outcome: FillOutcome, storing?: Promise<void>) => FillOutcome,
): Promise<FillOutcome> {
  const seq = ctx.invalidator.seq;
  const fence = await options.fencing;
  const upstreamStarted = performance.now();
  const observe = (error?: Parameters<ProxyContext["observer"]["upstream"]>[3]) =>
    ctx.observer.upstream(c.policy.label, c.route.name, (performance.now() - upstreamStarted) / 1000, error);
  const stale = options.stale;
  const validators = stale ? validatorsOf(stale) : {};
  const ask = firstAsk(ctx, c, options);
  let sent = ask.sent;
  let response = await request(ctx, c, sent, validators);
  if (response.status === 304 && stale && Object.keys(validators).length > 0) {
    response.body.resume(); // a 304 has no body; release the connection
    const at = { seq, fence, now: ctx.now(), sent, beyondKey: ask.beyondKey };
    const outcome = revalidated(ctx, c, stale, response.headers, at);
    if (outcome) {
      observe();
      return finish({ result: outcome.result }, outcome.storing);
    }
    // The 304 does not select the stored response, or cannot be shared: ask again, unconditionally.
    response = await request(ctx, c, sent, {});
  }
  let beyondKey = ask.beyondKey;
  let asked: readonly string[];
  ({ response, sent, asked } = await askForVariant(ctx, c, response, sent));
  const now = ctx.now();
  // The first answer's Vary counts even when the second one drops it: those fields reached the upstream.
  if (asked.length > 0) {
    ctx.learnedVary.learn(c.route.name, asked, now);
    beyondKey = [...beyondKey, ...asked];
  }
  if ("reason" in response) {
    observe(response.reason);
    return finish({ result: { kind: "error", reason: response.reason } });
  }
  ctx.learnedVary.learn(c.route.name, varyNames(response.headers.vary).filter(fillable), now);
  const decision = storability({
    rules: c.route.rules,
    status: response.status,
    headers: response.headers,
    requestAuthorized: c.requestAuthorized,
    now,
  });
  if (!decision.storable && !shareable(response.headers)) {
    observe(response.status >= 500 ? "status_5xx" : undefined);
    markPass(ctx, c, now);
    return finish({ result: { kind: "pass" }, stream: { ...response, head: [], reason: decision.reason } });
  }
  // The body is buffered for storage while waiters wait on it: bound the gaps between chunks by the
  // same spec.upstream.timeout (undici's body timeout is off so that streamed responses may pause).
  const collected = await collectBody(response.body, c.route.rules.maxBodyBytes, c.policy.upstreamTimeoutMs);
  if (collected.kind === "stalled" || collected.kind === "truncated") {
    observe(collected.kind === "stalled" ? "timeout" : "truncated");
    return finish({ result: brokenBody(ctx, c, collected) });
  }
  observe(response.status >= 500 ? "status_5xx" : undefined);
  if (collected.kind === "overflow") {
    markPass(ctx, c, now);
    const stream = {
      ...response,
      head: collected.head,
      body: collected.rest,
      reason: "body-too-large" as const,
    };
    return finish({ result: { kind: "pass" }, stream });
  }
  const entry = buildEntry(c, response, collected.body, decision, { now, sent, beyondKey });
  const done = completed(ctx, c, entry, decision, { seq, fence, fwd });
  return finish({ result: done.result }, done.storing);
}

/** Hit-for-pass (coalescer.ts): later requests for the key fetch for themselves, streaming. */
function markPass(ctx: ProxyContext, c: CacheableRequest, now: number): void {
  ctx.coalescer.passMarks.mark(c.key, c.tags, now + HIT_FOR_PASS_MS);
}

/** Logs a body that stalled or broke off while being buffered for storage; the fill failed. */
function brokenBody(
  ctx: ProxyContext,
  c: CacheableRequest,
  collected: Extract<Awaited<ReturnType<typeof collectBody>>, { kind: "stalled" | "truncated" }>,
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

/**
 * A complete entry: stored (fenced) when storable and no invalidation of its key or tags ran in this
 * process since the fill started.
 */
function completed(
  ctx: ProxyContext,
  c: CacheableRequest,
  entry: CacheEntry,
  decision: Storability,
  at: {
    readonly seq: number;
    readonly fence: Fence | undefined;
    readonly fwd: ForwardReason;
    readonly fwdStatus?: number;
  },
): { result: FillResult; storing?: Promise<void> } {
  const fresh = decision.storable && !ctx.invalidator.invalidatedSince(at.seq, c.key, c.tags);
  const reason: NotStoredReason | undefined = decision.storable
    ? fresh
      ? undefined
      : "invalidated-during-fetch"
    : decision.reason;
  if (fresh) {
    ctx.observer.stored(c.policy.label, c.route.name);
    ctx.coalescer.passMarks.unmark(c.key);
  }
  const result: FillResult = {
    kind: "entry",
    entry,
    stored: fresh,
    fwd: at.fwd,
    ...(at.fwdStatus === undefined ? {} : { fwdStatus: at.fwdStatus }),
    ...(reason ? { reason } : {}),
  };
  return fresh ? { result, storing: store(ctx, c, entry, at.fence) } : { result };
}

/**
 * The store's fence for the fill's tags, taken before the upstream is asked: the entry is stored only
 * if no pod invalidated one of them meanwhile. A store that cannot say (Redis unreachable) gives no
 * fence; the store will most likely fail the write too, and if not, it is stored unfenced.
 */
async function takeFence(ctx: ProxyContext, c: CacheableRequest): Promise<Fence> {
  try {
    return await ctx.store.fence(c.tags);
  } catch (error) {
    ctx.log.debug(
      { err: error, key: c.key, code: (error as { code?: string }).code },
      "store fence failed; the fill will not be stored in Redis",
    );
    return { tags: [...c.tags], takenAt: performance.now(), unavailable: true };
  }
}

/**
 * The fill's headers: the key's, plus the fields the key's stored responses vary on and those the
 * route's responses have varied on (ADR 0013). `beyondKey` lists those extra fields: whatever the
 * answer's Vary says, it is stored as a variant of them, since they reached the upstream.
 */
function firstAsk(
  ctx: ProxyContext,
  c: CacheableRequest,
  options: FillOptions,
): { sent: Record<string, string>; beyondKey: readonly string[] } {
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

type Answer = Awaited<ReturnType<typeof request>>;

/**
 * An answer that varies on a field the client sent and the fill did not is not the client's variant:
 * asks once more with those fields (later fills of the key send them from the start).
 */
async function askForVariant(
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
async function request(
  ctx: ProxyContext,
  c: CacheableRequest,
  sent: Readonly<Record<string, string>>,
  validators: Readonly<Record<string, string>>,
): Promise<UpstreamResponse | { readonly status: 0; readonly reason: UpstreamErrorReason }> {
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

/**
 * The upstream answered a conditional fill with 304: the stored response is still current. Its body
 * and status are kept, its header fields freshened with the 304's (RFC 9111 §4.3.4), and it is stored
 * again with the freshness those fields now give it — the body was not transferred again. Undefined
 * when the 304 cannot be used that way: its validator names another representation, it sets a cookie,
 * or the freshened response may not be stored (the caller then refetches without conditions).
 */
function revalidated(
  ctx: ProxyContext,
  c: CacheableRequest,
  stale: CacheEntry,
  update: Headers,
  at: {
    readonly seq: number;
    readonly fence: Fence | undefined;
    readonly now: number;
    readonly sent: Headers;
    readonly beyondKey: readonly string[];
  },
): { result: FillResult; storing?: Promise<void> } | undefined {
  if (!selectsStored(stale.headers, update)) return undefined;
  const headers = freshenedHeaders(stale.headers, update);
  const decision = storability({
    rules: c.route.rules,
    status: stale.status,
    headers,
    requestAuthorized: c.requestAuthorized,
    now: at.now,
  });
  // Not storable any more (private, no-store, Vary: *...): waiters must not share it; refetch whole.
  if (!decision.storable) return undefined;
  const entry = buildEntry(c, { status: stale.status, headers }, stale.body, decision, at);
  return completed(ctx, c, entry, decision, { seq: at.seq, fence: at.fence, fwd: "stale", fwdStatus: 304 });
}

/** A response no waiter may share unless it is storable: per-user or explicitly unshareable. */
function shareable(headers: Headers): boolean {
  if (headers["set-cookie"] !== undefined) return false;
  const { cc } = responseCacheControl(headers);
  if (cc.noStore || cc.private) return false;
  return varyNames(headers.vary)[0] !== "*";
}

/**
 * `sent`: the request the response answers, whose values of the fields its Vary names are kept, and of
 * `beyondKey`: fields outside the key that the fill sent (or would have, had the client sent them).
 */
function buildEntry(
  c: CacheableRequest,
  response: { readonly status: number; readonly headers: Headers },
  body: Buffer,
  decision: Storability,
  {
    now,
    sent,
    beyondKey = [],
  }: { readonly now: number; readonly sent: Headers; readonly beyondKey?: readonly string[] },
): CacheEntry {
  const storable = decision.storable ? decision : undefined;
  const varied = storable?.varyNames ?? varyNames(response.headers.vary);
  return {
    status: response.status,
    headers: flattenHeaders(response.headers, storable ? NOT_STORED : NOT_FORWARDED),
    body,
    storedAt: now,
    initialAgeSeconds: storable?.initialAgeSeconds ?? 0,
    freshMs: storable?.freshMs ?? 0,
    staleWhileRevalidateMs: storable?.staleWhileRevalidateMs ?? 0,
    staleIfErrorMs: storable?.staleIfErrorMs ?? 0,
    tags: c.tags,
    // Sorted: the same fields always give the same secondary key, in whatever order they were learned.
    vary: varyValues([...new Set([...varied, ...beyondKey])].sort(), sent),
  };
}

/** Builds and stores an entry from a response fetched elsewhere (Shadow mode's tee). */
export function storeFetched(
  ctx: ProxyContext,
  c: CacheableRequest,
  response: { readonly status: number; readonly headers: Headers },
  body: Buffer,
  decision: Storability,
  now: number,
): Promise<void> {
  ctx.observer.stored(c.policy.label, c.route.name);
  // Shadow mode forwarded the client's own request: its fields are what the response answers.
  return store(ctx, c, buildEntry(c, response, body, decision, { now, sent: c.varyHeaders() }));
}

async function store(
  ctx: ProxyContext,
  c: CacheableRequest,
  entry: CacheEntry,
  fence?: Fence,
): Promise<void> {
  const bytes = encodeEntry(entry);
  ctx.entries.remember(bytes, entry);
  try {
    const options = { ttlMs: storeLifetimeMs(entry), tags: c.tags, ...(fence ? { fence } : {}) };
    // A response with Vary is stored twice: under the key, where the next request learns which fields
    // select a variant, and under the variant's own key, where it stays when another variant replaces
    // it under the key (RFC 9111 §4.1: one entry per variant).
    const variant =
      entry.vary.length > 0
        ? ctx.store.set(variantKey(c.key, entry.vary, c.identityHeaders), bytes, options)
        : Promise.resolve(true);
    const [stored] = await Promise.all([ctx.store.set(c.key, bytes, options), variant]);
    if (!stored) {
      ctx.log.debug(
        { key: c.key, route: c.route.name },
        "not stored: a tag of the entry was invalidated while it was fetched (another pod's write)",
      );
    }
  } catch (error) {
    ctx.log.debug(
      { err: error, key: c.key, code: (error as { code?: string }).code },
      "store set failed; not cached",
    );
  }
}
