/**
 * A timeout that never beats an answer the process has not yet had the chance to read.
 *
 * Node runs expired timers at the start of an event-loop turn, before it polls sockets. When the
 * process is starved of CPU (other processes busy on every core) or its loop is busy with many
 * requests, a turn can take longer than a short deadline: a reply sits readable in the socket while
 * its timer expires, or a command has not even been written yet (ioredis's auto-pipelining sends the
 * next batch only once the previous batch's replies were read, a turn later). A plain setTimeout then
 * reports a timeout for an answer that arrived in time — a Redis read that "timed out" turns a stored
 * entry into a miss, a fill into a second upstream request, a stale entry into a 502.
 *
 * So once the delay has passed, this timeout still lets the loop complete `GRACE_TURNS` more turns
 * (each polls the sockets; setImmediate runs right after the poll phase) and only then fires, unless
 * what it guards was cleared meanwhile. On an idle loop those turns take microseconds; on a starved
 * one, they are the time the process needed to hear the answer.
 */
export interface FairTimeout {
  /** Cancels the timeout (the guarded work finished); idempotent. */
  clear(): void;
}

/** Poll phases granted after the delay: enough for a reply to a command queued behind another batch. */
export const GRACE_TURNS = 8;

export function fairTimeout(ms: number, onTimeout: () => void): FairTimeout {
  let cleared = false;
  let immediate: NodeJS.Immediate | undefined;
  const turn = (left: number) => {
    if (cleared) return;
    if (left === 0) onTimeout();
    else immediate = setImmediate(turn, left - 1);
  };
  const timer = setTimeout(turn, ms, GRACE_TURNS);
  return {
    clear() {
      cleared = true;
      clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
    },
  };
}
