import type { Readable } from "node:stream";
import { Pool } from "undici";
import type { UpstreamErrorReason } from "../telemetry/metric-names.js";

/**
 * The upstream (the application next to the sidecar), reached through one keep-alive undici Pool.
 */
export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form request target: path and query. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  /** A stream, or a small body already read whole (sent with the head in one write). */
  readonly body?: Readable | Buffer | null;
  /**
   * Wait at most this long for the response headers (spec.upstream.timeout). The body has no
   * timeout here: streamed responses (long polls, server-sent events) may pause as long as they
   * like; a fill that buffers a body for storage bounds the gaps itself (body-collector.ts).
   */
  readonly timeoutMs: number;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Readable;
}

export interface Upstream {
  readonly origin: string;
  /** host[:port] of the upstream, the Host used when a request has none. */
  readonly host: string;
  request(request: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  /** Concurrent connections kept to the upstream (default 128). */
  readonly connections?: number;
  readonly keepAliveTimeoutMs?: number;
}

export function createUpstream(url: string, options: UpstreamOptions = {}): Upstream {
  const parsed = new URL(url);
  const pool = new Pool(parsed.origin, {
    connections: options.connections ?? 128,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
    pipelining: 1,
  });
  return {
    origin: parsed.origin,
    host: parsed.host,
    async request(request) {
      const response = await pool.request({
        method: request.method as "GET",
        path: request.path,
        headers: request.headers,
        body: request.body ?? null,
        headersTimeout: request.timeoutMs,
        bodyTimeout: 0,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    },
    close: () => pool.close(),
  };
}

const TIMEOUT = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "ETIMEDOUT",
]);
const REFUSED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);
const TRUNCATED = new Set(["UND_ERR_RES_CONTENT_LENGTH_MISMATCH"]);

/** The `reason` label for an upstream failure. */
export function upstreamErrorReason(error: unknown): UpstreamErrorReason {
  const code = errorCode(error);
  if (code !== undefined) {
    if (TIMEOUT.has(code)) return "timeout";
    if (REFUSED.has(code)) return "refused";
    if (TRUNCATED.has(code)) return "truncated";
  }
  return "reset";
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "UND_ERR_SOCKET") return code;
    if (current instanceof AggregateError && current.errors[0]) current = current.errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return (error as { code?: string } | undefined)?.code;
}
