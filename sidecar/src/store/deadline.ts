import { fairTimeout } from "../timers/fair-timeout.js";

/**
 * Rejects with `onTimeout()` when `work` has not settled within `ms`; clears its timer either way.
 * The timer is fair to I/O (timers/fair-timeout.ts): a reply already readable when it expires wins.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof fairTimeout> | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = fairTimeout(ms, () => reject(onTimeout()));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    timer?.clear();
  }
}

/**
 * ioredis's own per-command timeout, a backstop only: it rejects from a plain timer, before a reply
 * waiting in the socket is read, so at the command deadline it would turn answers that arrived in
 * time into timeouts on a CPU-starved process. `withDeadline` above bounds every caller instead.
 * Also the deadline of writes no request waits on (storing a fill).
 */
export function clientCommandTimeoutMs(commandTimeoutMs: number): number {
  return Math.max(1_000, commandTimeoutMs * 10);
}
