import type { ForwardReason, NotStoredReason } from "../http-cache/cache-outcome.js";
import type { CacheEntry } from "../http-cache/entry.js";
import { encodeEntry } from "../http-cache/entry-codec.js";
import { storeLifetimeMs } from "../http-cache/freshness.js";
import { flattenHeaders, type Headers } from "../http-cache/headers.js";
import type { Storability } from "../http-cache/storability.js";
import { varyNames, varyValues } from "../http-cache/vary.js";
import { variantKey } from "../keys/cache-key.js";
import type { Fence } from "../store/types.js";
import type { CacheableRequest } from "./cacheable-request.js";
import type { FillResult, ProxyContext } from "./context.js";
import { type FillGuard, invalidatedDuring } from "./fill-fence.js";

/**
 * Storing a fill's answer: the entry built from the response (the fields it keeps, its freshness, the
 * request fields that select it), stored — fenced — when it may be and no invalidation ran meanwhile,
 * and the FillResult every waiter gets either way.
 */

/** Fields never stored: recomputed on every hit, or per-connection. */
const NOT_STORED: ReadonlySet<string> = new Set(["age", "content-length", "cache-status", "set-cookie"]);
/**
 * Fields left out of a response that is not stored (it is only handed to the leader and its waiters):
 * its Age is forwarded as the upstream sent it (RFC 9111 §5.1 counts this cache's time only for
 * responses it stored).
 */
const NOT_FORWARDED: ReadonlySet<string> = new Set(["content-length", "cache-status", "set-cookie"]);

/** What a fill stores for: the shared context and the request it fills. */
export interface Filling {
  readonly ctx: ProxyContext;
  readonly c: CacheableRequest;
}

/** A whole response: status, header fields, body. */
export interface WholeResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/**
 * The request a response answers, for the entry's secondary key: `sent`, whose values of the fields the
 * response's Vary names are kept, and of `beyondKey`: fields outside the key that the fill sent (or would
 * have, had the client sent them).
 */
export interface Answered {
  readonly now: number;
  readonly sent: Headers;
  readonly beyondKey?: readonly string[];
}

export function buildEntry(
  c: CacheableRequest,
  response: WholeResponse,
  decision: Storability,
  { now, sent, beyondKey = [] }: Answered,
): CacheEntry {
  const storable = decision.storable ? decision : undefined;
  const varied = storable?.varyNames ?? varyNames(response.headers.vary);
  return {
    status: response.status,
    headers: flattenHeaders(response.headers, storable ? NOT_STORED : NOT_FORWARDED),
    body: response.body,
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

/** What completes a fill: its fence, why it was forwarded, and the upstream's status if not the entry's. */
export interface Completion {
  readonly guard: FillGuard;
  readonly fwd: ForwardReason;
  /** The upstream's status when it differs from the entry's: 304 for a revalidated entry. */
  readonly fwdStatus?: number;
}

/**
 * How a store ended: written; refused by its fence (a tag was invalidated — by any pod — since the fill
 * began, so the answer predates a write); or failed (Redis slow or gone, or no fence could be taken:
 * nothing is known).
 */
export type StoreOutcome = "stored" | "refused" | "failed";

/** A fill's result, and the store's write when the entry is stored. */
export interface Completed {
  readonly result: FillResult;
  readonly storing?: Promise<StoreOutcome>;
}

/**
 * A complete entry: stored (fenced) when storable and no invalidation of its key or tags ran in this
 * process since the fill started.
 */
export function completed(
  { ctx, c }: Filling,
  entry: CacheEntry,
  decision: Storability,
  { guard, fwd, fwdStatus }: Completion,
): Completed {
  const fresh = decision.storable && !invalidatedDuring(ctx, c, guard);
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
    fwd,
    ...(fwdStatus === undefined ? {} : { fwdStatus }),
    ...(reason ? { reason } : {}),
  };
  return fresh ? { result, storing: store(ctx, c, entry, guard.fence) } : { result };
}

/** Builds and stores an entry from a response fetched elsewhere (Shadow mode's tee). */
export function storeFetched(
  ctx: ProxyContext,
  c: CacheableRequest,
  response: WholeResponse,
  decision: Storability,
): Promise<void> {
  const now = ctx.now();
  ctx.observer.stored(c.policy.label, c.route.name);
  // Shadow mode forwarded the client's own request: its fields are what the response answers.
  const entry = buildEntry(c, response, decision, { now, sent: c.varyHeaders() });
  return store(ctx, c, entry).then(() => undefined);
}

async function store(
  ctx: ProxyContext,
  c: CacheableRequest,
  entry: CacheEntry,
  fence?: Fence,
): Promise<StoreOutcome> {
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
    if (stored) return "stored";
    // No fence could be taken (Redis did not answer): shared stores refuse such a write (store/types.ts)
    // for what no one can rule out. That is no sign of a write: the waiters take the answer (ADR 0035).
    if (fence?.unavailable) return "failed";
    ctx.log.debug(
      { key: c.key, route: c.route.name },
      "not stored: a tag of the entry was invalidated while it was fetched (another pod's write)",
    );
    return "refused";
  } catch (error) {
    ctx.log.debug(
      { err: error, key: c.key, code: (error as { code?: string }).code },
      "store set failed; not cached",
    );
    return "failed";
  }
}
