import type { IncomingMessage } from "node:http";
import type { NextFunction, Request, Response } from "express";

/** The largest AdmissionReview handled (a pod is at most ~1.5 MiB in etcd; a review holds it once). */
export const MAX_BODY = 4 * 1024 * 1024;
/**
 * How much more of an oversized body is read (and dropped) before the 413: the API server is still
 * sending, and a response written then closed under an unread upload can reach it as a reset instead.
 * Past this, the 413 goes out at once and the connection closes.
 */
export const MAX_DRAIN = 16 * 1024 * 1024;

/** A review not handled at all (too large, not JSON): answered by the webhook's error handler. */
export class ReviewRefusal extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
    readonly bytes: number,
  ) {
    super(message);
    this.name = "ReviewRefusal";
  }
}

type Body = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly size: number };

/**
 * The webhook's JSON body middleware: the AdmissionReview, parsed, in `req.body`; or a ReviewRefusal
 * (413 past MAX_BODY, 400 when not JSON). Not express.json: past its limit that one reads the whole
 * upload, however long, before answering; the webhook stops at MAX_DRAIN (docs/adr/0030).
 */
export async function readReview(req: Request, _res: Response, next: NextFunction): Promise<void> {
  const body = await readBody(req);
  if (!body.ok) {
    const message = `the AdmissionReview is larger than ${MAX_BODY / 1024 / 1024} MiB (${body.size} bytes or more)`;
    return next(new ReviewRefusal(413, message, body.size));
  }
  try {
    req.body = JSON.parse(body.bytes.toString("utf8"));
  } catch {
    return next(new ReviewRefusal(400, "the body must be an AdmissionReview (JSON)", body.bytes.length));
  }
  next();
}

/** The body, or its size once it is past MAX_BODY (then read to its end, or to MAX_DRAIN, and dropped). */
function readBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
      else if (size > MAX_BODY + MAX_DRAIN) resolve({ ok: false, size });
      else chunks.length = 0;
    });
    req.on("end", () =>
      resolve(size > MAX_BODY ? { ok: false, size } : { ok: true, bytes: Buffer.concat(chunks) }),
    );
    req.on("error", reject);
  });
}
