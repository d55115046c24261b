import type { Readable } from "node:stream";

/**
 * Reads a response body while it stays within a byte limit, for storing; once it grows past the limit
 * it stops buffering and hands back what it has plus the paused rest, for streaming. A body that ends
 * in an error (reset, length mismatch) is reported as truncated and never stored.
 */
export type CollectedBody =
  | { readonly kind: "complete"; readonly body: Buffer }
  | { readonly kind: "overflow"; readonly head: readonly Buffer[]; readonly rest: Readable }
  | { readonly kind: "truncated"; readonly error: unknown };

export function collectBody(body: Readable, limit: number): Promise<CollectedBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
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
    body.on("data", onData);
    body.on("end", onEnd);
    body.on("error", onError);
  });
}

function noop(): void {}
