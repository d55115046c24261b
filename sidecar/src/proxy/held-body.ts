import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";

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

export async function holdBodyWhile<T>(
  body: Readable,
  limit: number,
  wait: Promise<T>,
): Promise<{ readonly value: T; readonly held: HeldBody }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) body.pause();
  };
  const onEnd = () => {
    ended = true;
  };
  body.on("error", noop);
  body.on("data", onData);
  body.once("end", onEnd);
  try {
    const value = await wait;
    return { value, held: { chunks, size, ended } };
  } finally {
    // Pause before detaching: a flowing stream with no 'data' listener would drop chunks.
    body.pause();
    body.off("data", onData);
    body.off("end", onEnd);
  }
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
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
