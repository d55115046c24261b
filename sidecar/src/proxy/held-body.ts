import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type { Headers } from "../http-cache/headers.js";

/**
 * Small helpers that save socket writes on the write path without releasing anything early.
 *
 * `holdBodyWhile`: while a write's invalidation runs, reads what the upstream's response body
 * delivers (up to `limit` bytes) without sending any of it, so once the invalidation resolves a small
 * response leaves as one write (head, body and end together) instead of a head-then-stream pipeline.
 * The client still sees nothing before the invalidation is done.
 *
 * `smallRequestBody`: a request body with a small declared Content-Length is read whole first, so the
 * upstream request leaves as one write (head and body) instead of a head and a streamed body.
 */
export interface HeldBody {
  readonly chunks: readonly Buffer[];
  readonly size: number;
  /** The body ended within the limit: `chunks` is all of it. */
  readonly ended: boolean;
}

export const HOLD_LIMIT_BYTES = 64 * 1024;

function noop(): void {}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function holdBodyWhile<T>(
  body: Readable,
  limit: number,
  wait: Promise<T>,
  options: { readonly untilEnd?: boolean } = {},
): Promise<{ readonly value: T; readonly held: HeldBody }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  // Settles when holding more cannot help: the body ended, broke, or reached the limit.
  let settle = noop;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.pause();
      settle();
    }
  };
  const onEnd = () => {
    ended = true;
    settle();
  };
  const onError = () => settle();
  body.on("error", onError);
  body.on("data", onData);
  body.once("end", onEnd);
  try {
    const value = await wait;
    // A bounded body is held to its end. Any other body gets one more event-loop turn: its end has
    // usually been parsed already and is only waiting for its 'end' event; a streaming one is not
    // held back longer than that.
    await (options.untilEnd ? settled : Promise.race([settled, nextTurn()]));
    return { value, held: { chunks, size, ended } };
  } finally {
    // Pause before detaching: a flowing stream with no 'data' listener would drop chunks.
    body.pause();
    body.off("data", onData);
    body.off("end", onEnd);
    // Keep a listener so an error before the pipeline attaches is not thrown unhandled.
    body.off("error", onError);
    body.on("error", noop);
  }
}

/**
 * Whether a response body is small and bounded (a declared Content-Length within `limit`, or no
 * body at all), so waiting for its end costs no more than the upstream takes to send it.
 */
export function boundedBody(status: number, headers: Headers, limit = HOLD_LIMIT_BYTES): boolean {
  if (status === 204 || status === 304) return true;
  if (headers["transfer-encoding"] !== undefined) return false;
  const declared = headers["content-length"];
  if (typeof declared !== "string") return false;
  const length = Number(declared);
  return Number.isSafeInteger(length) && length >= 0 && length <= limit;
}

/** The request body as one Buffer when its declared length is small; otherwise the stream itself. */
export async function smallRequestBody(
  req: IncomingMessage,
  limit = HOLD_LIMIT_BYTES,
): Promise<IncomingMessage | Buffer> {
  const declared = req.headers["content-length"];
  if (declared === undefined || req.headers["transfer-encoding"] !== undefined) return req;
  const length = Number(declared);
  if (!Number.isSafeInteger(length) || length < 0 || length > limit) return req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    };
    const settle = (error?: Error) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", settle);
      req.off("close", onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onEnd = () => settle();
    const onClose = () => settle(prematureClose());
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", settle);
    req.once("close", onClose);
  });
}

function prematureClose(): Error {
  return Object.assign(new Error("the request body ended before its declared length arrived"), {
    code: "ERR_STREAM_PREMATURE_CLOSE",
  });
}
