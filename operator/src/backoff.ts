/**
 * Exponential backoff with optional jitter, pure: `delayMs(attempt)` for attempt 0, 1, 2, …
 * Randomness is passed in so tests are deterministic.
 */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly factor?: number;
  /** 0.2 = up to 20% added at random; 0 = none. */
  readonly jitter?: number;
  readonly random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const factor = options.factor ?? 2;
  const raw = Math.min(options.maxMs, options.baseMs * factor ** Math.max(0, attempt));
  const jitter = options.jitter ?? 0;
  if (jitter === 0) return raw;
  const random = options.random ?? Math.random;
  return Math.min(options.maxMs, Math.round(raw * (1 + jitter * random())));
}
