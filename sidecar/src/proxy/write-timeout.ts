import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { ERROR_CODES } from "../errors.js";

/**
 * Cuts clients that stop reading. A stalled reader must not hold an upstream connection: the upstream
 * body piped into its response waits on the client's backpressure. A sweep runs every
 * `sweepInterval(timeoutMs)` over the server's connections, so a request costs nothing here. A
 * connection with bytes waiting to be handed to the kernel and no byte handed over for `timeoutMs` is
 * destroyed (which also ends the upstream body piped into it). A stream that is merely quiet
 * (server-sent events between events, a long poll) has nothing waiting and is never cut; a slow
 * reader that keeps taking bytes is not either. The cut needs one more sweep that still sees no
 * progress: sweeps are timers, and between two of them the loop has polled the sockets at least once,
 * so a process starved of CPU does not blame a client for bytes it had no turn to write.
 */
export interface WriteProgress {
  /** Bytes handed to the kernel when progress was last seen. */
  readonly dispatched: number;
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
  socket: { readonly pending: number; readonly dispatched: number },
  now: number,
  timeoutMs: number,
): WriteVerdict {
  if (socket.pending === 0) return { kind: "idle" };
  if (previous === undefined || socket.dispatched !== previous.dispatched) {
    return { kind: "waiting", progress: { dispatched: socket.dispatched, since: now, due: false } };
  }
  if (now - previous.since < timeoutMs) return { kind: "waiting", progress: previous };
  if (!previous.due) return { kind: "waiting", progress: { ...previous, due: true } };
  return { kind: "cut" };
}

/** How often the sweep runs: a quarter of the timeout, between 10 ms and 1 s. */
export function sweepInterval(timeoutMs: number): number {
  return Math.min(1_000, Math.max(10, Math.floor(timeoutMs / 4)));
}

/** Starts the sweep on `server` (timeoutMs ≤ 0: never). Stops by itself when the server closes. */
export function cutSlowClients(server: Server, timeoutMs: number, log: Logger): void {
  if (!(timeoutMs > 0)) return;
  const watched = new Map<Socket, WriteProgress | undefined>();
  server.on("connection", (socket: Socket) => {
    watched.set(socket, undefined);
    socket.once("close", () => watched.delete(socket));
  });
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [socket, previous] of watched) {
      const pending = socket.writableLength;
      const verdict = judgeWrites(
        previous,
        { pending, dispatched: socket.bytesWritten - pending },
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
