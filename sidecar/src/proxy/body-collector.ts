import type { Readable } from "node:stream";
import { type FairTimeout, fairTimeout } from "../timers/fair-timeout.js";

/**
 * Reads a response body while it stays within a byte limit, for storing; once it grows past the limit
 * it stops buffering and hands back what it has plus the paused rest, for streaming. A body that ends
 * in an error (reset, length mismatch) is reported as truncated and never stored. While buffering,
 * a gap of more than `idleTimeoutMs` between chunks (or before the first) ends the read as
 * "stalled" and destroys the body: a stuck fill must not hold its coalesced waiters forever. The
 * rest handed back on overflow is streamed without that bound.
 */
export type CollectedBody =
  | { readonly kind: "complete"; readonly body: Buffer }
  | { readonly kind: "overflow"; readonly head: readonly Buffer[]; readonly rest: Readable }
  | { readonly kind: "truncated"; readonly error: unknown }
  | { readonly kind: "stalled"; readonly idleMs: number };

export function collectBody(body: Readable, limit: number, idleTimeoutMs = 0): Promise<CollectedBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let idle: FairTimeout | undefined;
    const onIdle = () => {
      cleanup();
      body.on("error", noop);
      body.destroy();
      resolve({ kind: "stalled", idleMs: idleTimeoutMs });
    };
    const arm = () => {
      if (idleTimeoutMs > 0) idle = fairTimeout(idleTimeoutMs, onIdle);
    };
    const cleanup = () => {
      idle?.clear();
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      idle?.clear();
      arm();
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        body.pause();
        cleanup();
        // Errors after the hand-over belong to whoever streams the rest; keep one listener meanwhile.
        body.on("error", noop);
        resolve({ kind: "overflow", head: chunks, rest: body });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({
        kind: "complete",
        body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size),
      });
    };
    const onError = (error: unknown) => {
      cleanup();
      body.on("error", noop);
      resolve({ kind: "truncated", error });
    };
    arm();
    body.on("data", onData);
    body.on("end", onEnd);
    body.on("error", onError);
  });
}

function noop(): void {}
