import type { CacheEntry } from "../http-cache/entry.js";
import type { Headers } from "../http-cache/headers.js";
import { freshenedHeaders, selectsStored, validatorsOf } from "../http-cache/revalidation.js";
import { storability } from "../http-cache/storability.js";
import type { FillGuard } from "./fill-fence.js";
import type { FillRun } from "./fill-run.js";
import { type Answered, buildEntry, type Completed, completed, type Filling } from "./fill-store.js";
import { type Answer, type Ask, request } from "./fill-upstream.js";

/**
 * Revalidation (RFC 9111 §4.3): a fill that replaces a stored response with a validator asks the
 * upstream conditionally. A 304 that selects the stored response completes the fill without a body; any
 * other answer — or a 304 that cannot be used — is an ordinary answer to go on with.
 */
export type FirstAnswer =
  | { readonly kind: "revalidated"; readonly completed: Completed }
  | { readonly kind: "answer"; readonly response: Answer };

/** The fill's first request: conditional when it replaces a stale entry with validators. */
export async function askFirst(run: FillRun, guard: FillGuard, ask: Ask): Promise<FirstAnswer> {
  const { ctx, c } = run;
  const stale = run.options.stale;
  const validators = stale ? validatorsOf(stale) : {};
  const response = await request(ctx, c, ask.sent, validators);
  if (response.status !== 304 || !stale || Object.keys(validators).length === 0)
    return { kind: "answer", response };
  response.body.resume(); // a 304 has no body; release the connection
  const at = { guard, now: ctx.now(), sent: ask.sent, beyondKey: ask.beyondKey };
  const done = revalidated(run, stale, response.headers, at);
  if (done) return { kind: "revalidated", completed: done };
  // The 304 does not select the stored response, or cannot be shared: ask again, unconditionally.
  return { kind: "answer", response: await request(ctx, c, ask.sent, {}) };
}

/**
 * The upstream answered a conditional fill with 304: the stored response is still current. Its body
 * and status are kept, its header fields freshened with the 304's (RFC 9111 §4.3.4), and it is stored
 * again with the freshness those fields now give it — the body was not transferred again. Undefined
 * when the 304 cannot be used that way: its validator names another representation, it sets a cookie,
 * or the freshened response may not be stored (the caller then refetches without conditions).
 */
function revalidated(
  run: Filling,
  stale: CacheEntry,
  update: Headers,
  at: Answered & { readonly guard: FillGuard },
): Completed | undefined {
  if (!selectsStored(stale.headers, update)) return undefined;
  const { c } = run;
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
  const entry = buildEntry(c, { status: stale.status, headers, body: stale.body }, decision, at);
  return completed(run, entry, decision, { guard: at.guard, fwd: "stale", fwdStatus: 304 });
}
