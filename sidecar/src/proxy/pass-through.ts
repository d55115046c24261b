import { finished } from "node:stream";
import type { UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import { type CacheOutcome, withForwardStatus } from "../http-cache/cache-outcome.js";
import type { Headers } from "../http-cache/headers.js";
import { report } from "../telemetry/request-observer.js";
import type { Exchange, ProxyContext } from "./context.js";
import {
  boundedBody,
  type HeldBody,
  HOLD_LIMIT_BYTES,
  holdBodyWhile,
  smallRequestBody,
} from "./held-body.js";
import { forwardHeaders, hasBody, upstreamHead, writeUpstreamError } from "./respond.js";
import { type Lane, upstreamErrorReason } from "./upstream.js";
import { pipeUpstream } from "./write-timeout.js";

/**
 * Streams a request to the upstream and its response back, never buffering the body: bypassed reads,
 * writes (with invalidation between the response head and its release), mode Off and Shadow.
 */
export interface PassThroughOptions {
  readonly route: string;
  /** The decision, before the upstream answered; its fwd-status is filled in. */
  readonly outcome: CacheOutcome;
  /**
   * Awaited after the upstream's head arrives and before anything reaches the client (a write's
   * invalidation). May refine the outcome (Shadow mode learns whether the response was storable).
   */
  readonly beforeHead?: (status: number, headers: Headers) => Promise<CacheOutcome | undefined>;
  /** Sees the body as it streams (Shadow mode stores what it would have cached). */
  readonly tee?: BodyTee;
  /** Awaited when the upstream failed before answering, before the client gets its 502/504. */
  readonly onUpstreamError?: (reason: UpstreamErrorReason) => Promise<void>;
  /** Sees the request body when it was small enough to be read whole before forwarding. */
  readonly onRequestBody?: (body: Buffer) => void;
  /** The upstream lane (upstream.ts): "write" for unsafe methods, else "pass" (the default). */
  readonly lane?: Lane;
}

export interface BodyTee {
  readonly limit: number;
  /** Called once at the end: the whole body, or undefined when it outgrew the limit or broke. */
  done(status: number, headers: Headers, body: Buffer | undefined): void;
}

export async function passThrough(x: Exchange, options: PassThroughOptions): Promise<void> {
  const upstreamStarted = performance.now();
  const response = await forward(x, options, upstreamStarted);
  if (response === undefined) return;
  const { refined, held } = await decide(response, options);
  const outcome = withForwardStatus(refined ?? options.outcome, response.status);
  x.res.writeHead(response.status, upstreamHead(response.headers, outcome));
  const tee = options.tee
    ? teeBody(response.body, options.tee, response.status, response.headers)
    : undefined;
  await relay(x, response, { route: options.route, outcome, upstreamStarted, held, tee });
}

/**
 * Sends the request to the upstream (its body read first when small: `onRequestBody`). When the
 * upstream fails before answering, the client gets its 502/504, the request is reported, and the
 * answer is undefined.
 */
async function forward(
  x: Exchange,
  options: PassThroughOptions,
  upstreamStarted: number,
): Promise<UpstreamAnswer | undefined> {
  const { ctx, req, res, policy } = x;
  try {
    const body = hasBody(req) ? await smallRequestBody(req) : null;
    if (Buffer.isBuffer(body)) options.onRequestBody?.(body);
    return await ctx.upstream.request({
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers: forwardHeaders(req),
      body,
      timeoutMs: policy.upstreamTimeoutMs,
      lane: options.lane ?? "pass",
    });
  } catch (error) {
    const reason = upstreamErrorReason(error);
    ctx.observer.upstream(policy.label, options.route, (performance.now() - upstreamStarted) / 1000, reason);
    ctx.log.warn(
      { err: error, code: reasonCode(reason), route: options.route, path: req.url },
      "upstream request failed",
    );
    await options.onUpstreamError?.(reason);
    const status = writeUpstreamError(res, reason, options.outcome);
    report(x, options.route, status, options.outcome);
    return undefined;
  }
}

/** How the upstream's answer is relayed: its route and outcome, when it was asked, what is held or teed. */
interface Relay {
  readonly route: string;
  readonly outcome: CacheOutcome;
  readonly upstreamStarted: number;
  readonly held: HeldBody | undefined;
  readonly tee: ReturnType<typeof teeBody> | undefined;
}

/** Streams the answer's body to the client (a held small body in one write), then reports the request. */
function relay(x: Exchange, response: UpstreamAnswer, how: Relay): Promise<void> {
  const { ctx, req, res } = x;
  const { held, route } = how;
  return new Promise<void>((resolve) => {
    const done = (error?: Error | null) => {
      const seconds = (performance.now() - how.upstreamStarted) / 1000;
      if (error && !res.writableFinished) {
        // The client went away, or the upstream broke mid-body: the client connection is closed.
        ctx.log.debug({ err: error, route, path: req.url }, "streaming a response ended early");
      }
      ctx.observer.upstream(x.policy.label, route, seconds);
      how.tee?.finish(error === undefined || error === null);
      report(x, route, response.status, how.outcome);
      resolve();
    };
    if (held?.ended) {
      // The whole (small) body arrived during the invalidation: head, body and end in one write.
      res.end(held.size > 0 ? Buffer.concat(held.chunks as Buffer[], held.size) : undefined);
      finished(res, (error) => done(error));
      return;
    }
    for (const chunk of held?.chunks ?? []) res.write(chunk);
    pipeUpstream(response.body, res, done);
  });
}

type UpstreamAnswer = Awaited<ReturnType<ProxyContext["upstream"]["request"]>>;

/**
 * Runs `beforeHead` (a write's invalidation). Without a tee, the body is read meanwhile (held, never
 * sent) so a small response can leave in one write once the invalidation is done; a body of small
 * declared length is held to its end even when the invalidation finishes first.
 */
async function decide(
  response: UpstreamAnswer,
  options: PassThroughOptions,
): Promise<{ refined: CacheOutcome | undefined; held: HeldBody | undefined }> {
  if (options.beforeHead === undefined) return { refined: undefined, held: undefined };
  const pending = options.beforeHead(response.status, response.headers);
  if (options.tee !== undefined) return { refined: await pending, held: undefined };
  // A small body of declared length is held to its end, so it leaves with the head in one write.
  const untilEnd = boundedBody(response.status, response.headers);
  const { value, held } = await holdBodyWhile(response.body, HOLD_LIMIT_BYTES, pending, { untilEnd });
  return { refined: value, held };
}

function teeBody(body: NodeJS.ReadableStream, tee: BodyTee, status: number, headers: Headers) {
  let chunks: Buffer[] | undefined = [];
  let size = 0;
  body.on("data", (chunk: Buffer) => {
    if (chunks === undefined) return;
    size += chunk.length;
    if (size > tee.limit) chunks = undefined;
    else chunks.push(chunk);
  });
  return {
    finish(ok: boolean) {
      tee.done(status, headers, ok && chunks ? Buffer.concat(chunks, size) : undefined);
    },
  };
}

function reasonCode(reason: string): string {
  return `APICACHE_ERR_UPSTREAM_${reason === "status_5xx" ? "RESET" : reason.toUpperCase()}`;
}
