import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import { ERROR_CODES } from "../errors.js";
import { type FairTimeout, fairTimeout } from "../timers/fair-timeout.js";

/**
 * Cuts a client that stops reading. Whenever a response has more buffered than the socket takes
 * (`writableNeedDrain` after a write or the end), a timer runs; each time it expires with no byte
 * flushed to the client since it was armed, the connection is destroyed, which also ends the upstream
 * body piped into it and frees that upstream connection. A stream that is merely quiet (server-sent
 * events between events, a long poll) has nothing buffered and is never cut; a slow reader that keeps
 * taking bytes is not either.
 */
export function cutSlowClient(res: ServerResponse, timeoutMs: number, log: Logger): void {
  if (!(timeoutMs > 0)) return;
  let timer: FairTimeout | undefined;
  let flushed = 0;
  const written = () => res.socket?.bytesWritten ?? 0;
  const disarm = () => {
    timer?.clear();
    timer = undefined;
  };
  const expire = () => {
    timer = undefined;
    if (written() > flushed) return arm(); // progress: the client is slow, not gone
    log.debug(
      { code: ERROR_CODES.CLIENT_WRITE_TIMEOUT, timeoutMs, pending: res.writableLength },
      "client stopped reading its response; connection cut",
    );
    res.destroy();
  };
  const arm = () => {
    if (timer !== undefined || !res.writableNeedDrain || res.destroyed) return;
    flushed = written();
    timer = fairTimeout(timeoutMs, expire);
  };
  const write = res.write;
  res.write = function (this: ServerResponse, ...args: Parameters<ServerResponse["write"]>) {
    const ok = write.apply(this, args);
    if (!ok) arm();
    return ok;
  } as ServerResponse["write"];
  const end = res.end;
  res.end = function (this: ServerResponse, ...args: Parameters<ServerResponse["end"]>) {
    const result = end.apply(this, args);
    arm();
    return result;
  } as ServerResponse["end"];
  res.on("drain", disarm);
  res.once("finish", disarm);
  res.once("close", disarm);
}
