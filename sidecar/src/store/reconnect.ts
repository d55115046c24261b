/**
 * Reconnect backoff shared by the Redis clients: exponential from `baseMs`, capped at `maxMs`, plus
 * up to `baseMs` of jitter so a fleet of sidecars does not reconnect in lockstep. Never gives up:
 * a Redis that comes back is used again without a restart.
 */
export interface ReconnectOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly random?: () => number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = { baseMs: 50, maxMs: 2_000 };

export function reconnectDelay(attempt: number, options: ReconnectOptions): number {
  const random = options.random ?? Math.random;
  const exponential = options.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 20);
  return Math.min(exponential, options.maxMs) + Math.floor(random() * options.baseMs);
}
