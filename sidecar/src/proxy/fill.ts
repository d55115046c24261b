import type { ForwardReason } from "../http-cache/cache-outcome.js";
import { storability } from "../http-cache/storability.js";
import { varyNames } from "../http-cache/vary.js";
import { fillable } from "../keys/fill-request.js";
import { clientCommandTimeoutMs } from "../store/deadline.js";
import type { Fence } from "../store/types.js";
import { collectBody } from "./body-collector.js";
import type { CacheableRequest } from "./cacheable-request.js";
import type { ProxyContext } from "./context.js";
import { crossPodStep } from "./cross-pod.js";
import { type FillGuard, guardFill, takeFence } from "./fill-fence.js";
import { askFirst } from "./fill-revalidate.js";
import type { FillOptions, FillRun } from "./fill-run.js";
import { type FillOutcome, FlightSettlement, firstAnswer } from "./fill-settle.js";
import { type Answered, buildEntry, completed } from "./fill-store.js";
import { askForVariant, brokenBody, firstAsk, shareable, upstreamTimer } from "./fill-upstream.js";
import { HIT_FOR_PASS_MS } from "./pass-marks.js";
import type { UpstreamResponse } from "./upstream.js";

export type { PassResponse } from "./fill-settle.js";

/**
 * A cache fill: the one upstream request for a key (the coalescing leader). It stores what RFC 9111
 * allows, wakes every waiter with the result, and — when the response cannot be shared (Set-Cookie,
 * private, over maxBodyBytes) — hands the response back to the leader to stream, unbuffered.
 *
 * Its concerns, one file each: the flight it settles once (fill-settle.ts), the fence taken before the
 * upstream is asked (fill-fence.ts), the conditional request and its 304 (fill-revalidate.ts), what it
 * asks the upstream (fill-upstream.ts) and the entry it stores (fill-store.ts).
 */
export async function fill(
  ctx: ProxyContext,
  c: CacheableRequest,
  fwd: ForwardReason,
  options: FillOptions = {},
): Promise<FillOutcome> {
  const coalesce = options.coalesce ?? true;
  const flight = coalesce ? ctx.coalescer.lead(c.key, c.tags) : ctx.coalescer.solo(c.key, c.tags);
  // Waiters wait for the store's verdict as long as the store itself may take (its own deadline).
  const settle = new FlightSettlement(flight, clientCommandTimeoutMs(c.policy.store.commandTimeoutMs));
  try {
    const stepping = coalesce ? crossPodStep(ctx, c, fwd, options.refresh === true) : undefined;
    // In the lease's round trip. Taken before a wait, it is only older: it refuses more, never less.
    const fencing = takeFence(ctx, c);
    const step = await stepping;
    if (step?.kind === "served") return settle.finish({ result: step.result });
    settle.releaseAfter(step?.release);
    const own = fillLed({ ctx, c, fwd, options, settle }, fencing);
    return await (step?.late ? firstAnswer(own, step.late, settle) : own);
  } catch (error) {
    settle.abandon();
    throw error;
  }
}

/** This pod asks the upstream: conditionally first, then for the client's variant, then stores. */
async function fillLed(run: FillRun, fencing: Promise<Fence>): Promise<FillOutcome> {
  const { ctx, c, settle } = run;
  const guard = await guardFill(ctx, fencing);
  const observe = upstreamTimer(ctx, c);
  const ask = firstAsk(ctx, c, run.options);
  const first = await askFirst(run, guard, ask);
  if (first.kind === "revalidated") {
    observe();
    return settle.finish({ result: first.completed.result }, first.completed.storing);
  }
  let beyondKey = ask.beyondKey;
  const { response, sent, asked } = await askForVariant(ctx, c, first.response, ask.sent);
  const now = ctx.now();
  // The first answer's Vary counts even when the second one drops it: those fields reached the upstream.
  if (asked.length > 0) {
    ctx.learnedVary.learn(c.route.name, asked, now);
    beyondKey = [...beyondKey, ...asked];
  }
  if ("reason" in response) {
    observe(response.reason);
    return settle.finish({ result: { kind: "error", reason: response.reason } });
  }
  return storeOrPass(run, response, { guard, observe, answered: { now, sent, beyondKey } });
}

/** How a fill's answer arrived: its fence, its upstream timer, and the request it answers. */
interface Arrival {
  readonly guard: FillGuard;
  readonly observe: ReturnType<typeof upstreamTimer>;
  readonly answered: Answered;
}

/**
 * The upstream's answer: streamed to the leader alone when no waiter may share it, else buffered (the
 * gaps between chunks bounded by spec.upstream.timeout), stored when it may be, and shared.
 */
async function storeOrPass(run: FillRun, response: UpstreamResponse, at: Arrival): Promise<FillOutcome> {
  const { ctx, c, settle } = run;
  const { now } = at.answered;
  ctx.learnedVary.learn(c.route.name, varyNames(response.headers.vary).filter(fillable), now);
  const decision = storability({
    rules: c.route.rules,
    status: response.status,
    headers: response.headers,
    requestAuthorized: c.requestAuthorized,
    now,
  });
  if (!decision.storable && !shareable(response.headers)) {
    at.observe(response.status >= 500 ? "status_5xx" : undefined);
    markPass(ctx, c, now);
    return settle.finish({
      result: { kind: "pass" },
      stream: { ...response, head: [], reason: decision.reason },
    });
  }
  // The body is buffered for storage while waiters wait on it: bound the gaps between chunks by the
  // same spec.upstream.timeout (undici's body timeout is off so that streamed responses may pause).
  const collected = await collectBody(response.body, c.route.rules.maxBodyBytes, c.policy.upstreamTimeoutMs);
  if (collected.kind === "stalled" || collected.kind === "truncated") {
    at.observe(collected.kind === "stalled" ? "timeout" : "truncated");
    return settle.finish({ result: brokenBody(ctx, c, collected) });
  }
  at.observe(response.status >= 500 ? "status_5xx" : undefined);
  if (collected.kind === "overflow") {
    markPass(ctx, c, now);
    const stream = {
      ...response,
      head: collected.head,
      body: collected.rest,
      reason: "body-too-large" as const,
    };
    return settle.finish({ result: { kind: "pass" }, stream });
  }
  const whole = { status: response.status, headers: response.headers, body: collected.body };
  const entry = buildEntry(c, whole, decision, at.answered);
  const done = completed(run, entry, decision, { guard: at.guard, fwd: run.fwd });
  return settle.finish({ result: done.result }, done.storing);
}

/** Hit-for-pass (coalescer.ts): later requests for the key fetch for themselves, streaming. */
function markPass(ctx: ProxyContext, c: CacheableRequest, now: number): void {
  ctx.coalescer.passMarks.mark(c.key, c.tags, now + HIT_FOR_PASS_MS);
}
