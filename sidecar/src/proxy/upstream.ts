import type { Readable } from "node:stream";
import { Pool } from "undici";
import { ERROR_CODES, SidecarError } from "../errors.js";
import type { UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import { LaneGate, type Slot } from "./lane-gate.js";

/**
 * The upstream (the application next to the sidecar), reached through keep-alive undici Pools, one
 * per lane, so that traffic of one kind cannot take the connections another needs:
 *
 * - `fill`: cache fills (and warming), whose results many requests wait on;
 * - `write`: unsafe methods, whose invalidation the client waits on;
 * - `pass`: everything streamed through (bypassed reads, mode Off/Shadow, and fills whose answer
 *   turned out not storable: they move here), where event streams, long polls and slow readers live.
 *
 * Each lane admits at most its number of requests at a time (its Pool never queues); a request that
 * finds its lane full waits at most `queueTimeoutMs` for a slot, then fails with
 * APICACHE_ERR_UPSTREAM_BUSY (503). A slot is held until the response body has been consumed or
 * destroyed.
 */
export type Lane = "fill" | "write" | "pass";

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
  /** Which lane's connections to use (default "pass"). */
  readonly lane?: Lane;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Readable;
  /**
   * Moves the response's slot to another lane (a fill whose answer is streamed through instead of
   * stored goes to "pass"); false, and nothing changed, when that lane is full.
   */
  readonly moveTo?: (lane: Lane) => boolean;
}

export interface Upstream {
  readonly origin: string;
  /** host[:port] of the upstream, the Host used when a request has none. */
  readonly host: string;
  request(request: UpstreamRequest): Promise<UpstreamResponse>;
  /** Slots in use and requests waiting, per lane. */
  lanes(): Readonly<
    Record<Lane, { readonly held: number; readonly waiting: number; readonly limit: number }>
  >;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  /** Concurrent requests per lane (default fill 64, write 32, pass 128). */
  readonly connections?: Partial<Readonly<Record<Lane, number>>>;
  /** Longest wait for a free slot in a full lane (default 5 s). */
  readonly queueTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
}

export const DEFAULT_LANE_CONNECTIONS: Readonly<Record<Lane, number>> = { fill: 64, write: 32, pass: 128 };
export const DEFAULT_QUEUE_TIMEOUT_MS = 5_000;
const LANES: readonly Lane[] = ["fill", "write", "pass"];

/** The lane was full for the whole queue deadline: nothing was sent. */
export class UpstreamBusyError extends SidecarError {
  constructor(
    readonly lane: Lane,
    waitedMs: number,
  ) {
    super(
      ERROR_CODES.UPSTREAM_BUSY,
      `${ERROR_CODES.UPSTREAM_BUSY}: all ${lane} connections to the upstream stayed busy for ${waitedMs} ms; raise --upstream-${lane}-connections or --upstream-queue-timeout, or find what holds them (long-lived streams, a slow app)`,
    );
    this.name = "UpstreamBusyError";
  }
}

export function createUpstream(url: string, options: UpstreamOptions = {}): Upstream {
  const parsed = new URL(url);
  const limits = { ...DEFAULT_LANE_CONNECTIONS, ...options.connections };
  const queueTimeoutMs = options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
  const gates = Object.fromEntries(LANES.map((lane) => [lane, new LaneGate(limits[lane])])) as Record<
    Lane,
    LaneGate
  >;
  // A fill's connection may end up streaming (moved to "pass"): its pool can hold both lanes' worth.
  const pools = Object.fromEntries(
    LANES.map((lane) => [
      lane,
      new Pool(parsed.origin, {
        connections: lane === "fill" ? limits.fill + limits.pass : limits[lane],
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
        pipelining: 1,
      }),
    ]),
  ) as Record<Lane, Pool>;
  return {
    origin: parsed.origin,
    host: parsed.host,
    async request(request) {
      const lane = request.lane ?? "pass";
      let slot: Slot | undefined = await gates[lane].acquire(queueTimeoutMs);
      if (slot === undefined) throw new UpstreamBusyError(lane, queueTimeoutMs);
      try {
        const response = await pools[lane].request({
          method: request.method as "GET",
          path: request.path,
          headers: request.headers,
          body: request.body ?? null,
          headersTimeout: request.timeoutMs,
          bodyTimeout: 0,
        });
        response.body.once("close", () => slot?.release());
        return {
          status: response.statusCode,
          headers: response.headers,
          body: response.body,
          moveTo(to) {
            const moved = gates[to].tryAcquire();
            if (moved === undefined) return false;
            slot?.release();
            slot = moved;
            return true;
          },
        };
      } catch (error) {
        slot.release();
        throw error;
      }
    },
    lanes: () =>
      Object.fromEntries(
        LANES.map((lane) => [
          lane,
          { held: gates[lane].held, waiting: gates[lane].waiting, limit: gates[lane].limit },
        ]),
      ) as ReturnType<Upstream["lanes"]>,
    close: async () => {
      await Promise.all(LANES.map((lane) => pools[lane].close()));
    },
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
    if (code === ERROR_CODES.UPSTREAM_BUSY) return "busy";
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
