import type { Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { pipeline, type Readable } from "node:stream";
import type { Logger } from "pino";
import { ERROR_CODES } from "../errors.js";

/**
 * Cuts clients that stop reading while an upstream body is piped to them (`pipeUpstream`): a
 * stalled reader must not hold an upstream connection, which waits on its backpressure. A cached
 * body holds none and is never cut, however slowly it is read. A sweep runs every
 * `sweepInterval(timeoutMs)` over the server's connections, so a request costs nothing here. A
 * connection with bytes waiting to be handed to the kernel and no byte handed over for `timeoutMs` is
 * destroyed (which also ends the upstream body piped into it). Progress is seen two ways: a write
 * completed (`bytesWritten - writableLength` grew), or the kernel took part of the one in flight
 * (libuv's write queue shrank: a cached body is one write, which completes only at its end). A stream that is merely quiet
 * (server-sent events between events, a long poll) has nothing waiting and is never cut; a slow
 * reader that keeps taking bytes is not either. The cut needs one more sweep that still sees no
 * progress: sweeps are timers, and between two of them the loop has polled the sockets at least once,
 * so a process starved of CPU does not blame a client for bytes it had no turn to write.
 */
const STREAMING = Symbol("apicache.streamingUpstream");
type Watched = Socket & { [STREAMING]?: number };

/**
 * Marks `res`'s connection as carrying an upstream body until the returned function is called (when
 * the pipe ends): only such connections are judged. Two property writes per streamed response.
 */
function streamingUpstream(res: ServerResponse): () => void {
  const socket = res.socket as Watched | null;
  if (!socket) return () => {};
  socket[STREAMING] = (socket[STREAMING] ?? 0) + 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    socket[STREAMING] = (socket[STREAMING] ?? 1) - 1;
  };
}

/** Pipes an upstream body to the client, its connection judged by the sweep until the pipe ends. */
export function pipeUpstream(
  body: Readable,
  res: ServerResponse,
  done: (error: NodeJS.ErrnoException | null) => void,
): void {
  const streamed = streamingUpstream(res);
  pipeline(body, res, (error) => {
    streamed();
    done(error);
  });
}

export interface WriteProgress {
  /** Bytes of completed writes when progress was last seen. */
  readonly dispatched: number;
  /** Bytes libuv still held for the kernel then. */
  readonly queued: number;
  /** When no progress was first seen since then. */
  readonly since: number;
  /** A sweep past the deadline has seen it; the next one without progress cuts. */
  readonly due: boolean;
}

export type WriteVerdict =
  | { readonly kind: "idle" }
  | { readonly kind: "waiting"; readonly progress: WriteProgress }
  | { readonly kind: "cut" };

/** Pure: what one sweep decides about one connection. */
export function judgeWrites(
  previous: WriteProgress | undefined,
  socket: { readonly pending: number; readonly dispatched: number; readonly queued: number },
  now: number,
  timeoutMs: number,
): WriteVerdict {
  if (socket.pending === 0) return { kind: "idle" };
  if (
    previous === undefined ||
    socket.dispatched !== previous.dispatched ||
    socket.queued !== previous.queued
  ) {
    const { dispatched, queued } = socket;
    return { kind: "waiting", progress: { dispatched, queued, since: now, due: false } };
  }
  if (now - previous.since < timeoutMs) return { kind: "waiting", progress: previous };
  if (!previous.due) return { kind: "waiting", progress: { ...previous, due: true } };
  return { kind: "cut" };
}

/** Bytes libuv has not yet written to the kernel (node's TCP handle; 0 when there is none). */
function libuvQueued(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: number } })._handle;
  return handle?.writeQueueSize ?? 0;
}

/** How often the sweep runs: a quarter of the timeout, between 10 ms and 1 s. */
export function sweepInterval(timeoutMs: number): number {
  return Math.min(1_000, Math.max(10, Math.floor(timeoutMs / 4)));
}

/** Starts the sweep on `server` (timeoutMs ≤ 0: never). Stops by itself when the server closes. */
export function cutSlowClients(server: Server, timeoutMs: number, log: Logger): void {
  if (!(timeoutMs > 0)) return;
  const watched = new Map<Watched, WriteProgress | undefined>();
  server.on("connection", (socket: Socket) => {
    // The upgrade proxy hands a socket back to the server (a declined h2c offer): watched already.
    if (watched.has(socket)) return;
    watched.set(socket, undefined);
    socket.once("close", () => watched.delete(socket));
  });
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [socket, previous] of watched) {
      if (!socket[STREAMING]) {
        if (previous !== undefined) watched.set(socket, undefined);
        continue;
      }
      const pending = socket.writableLength;
      const dispatched = socket.bytesWritten - pending;
      const verdict = judgeWrites(
        previous,
        { pending, dispatched, queued: libuvQueued(socket) },
        now,
        timeoutMs,
      );
      if (verdict.kind === "cut") {
        watched.delete(socket);
        log.debug(
          { code: ERROR_CODES.CLIENT_WRITE_TIMEOUT, timeoutMs, pending },
          "client stopped reading its response; connection cut",
        );
        socket.destroy();
      } else {
        watched.set(socket, verdict.kind === "idle" ? undefined : verdict.progress);
      }
    }
  }, sweepInterval(timeoutMs));
  sweep.unref();
  server.once("close", () => clearInterval(sweep));
}
