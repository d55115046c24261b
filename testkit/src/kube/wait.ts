import { setTimeout as delay } from "node:timers/promises";
import { KubeTestkitError } from "./errors.js";

export interface WaitOptions {
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Pause between attempts (a poll interval, not a synchronization sleep). */
  readonly intervalMs?: number;
  /** Finishes "timed out waiting for …". */
  readonly what: string;
}

/**
 * Poll `check` until it returns a value other than undefined/false, or fail after the deadline with the
 * last error or value seen. This is how tests synchronize: on a condition, never on a fixed sleep.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new KubeTestkitError(
        "APICACHE_ERR_TIMEOUT",
        `timed out after ${options.timeoutMs} ms waiting for ${options.what} (last: ${detail})`,
        { cause: last },
      );
    }
    await delay(interval);
  }
}
