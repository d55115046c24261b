import type { Logger } from "pino";
import { ERROR_CODES } from "../errors.js";
import type { ProxyContext } from "../proxy/context.js";
import { handleFill } from "../proxy/warm-fill.js";
import type { CompiledPolicy } from "../routing/compile-policy.js";

/**
 * spec.warm: refreshes each listed path every `every`, through the cache path (a coalesced fill).
 * The entry is stored under the key a client sending the entry's `host` would use (default: the
 * upstream's host:port) — never the Host of whichever client came last.
 *
 * Bounded: one call warms at most MAX_WARM_PATHS paths, and all warming together (schedules and
 * POST /warm calls) runs at most WARM_CONCURRENCY fills at a time, so a long list cannot turn into a
 * burst against the application.
 */
export const MAX_WARM_PATHS = 100;
export const WARM_CONCURRENCY = 4;

export interface WarmTarget {
  readonly path: string;
  /** The Host the fill carries (default: the upstream's host:port). */
  readonly host?: string;
}

export interface WarmResult {
  readonly path: string;
  readonly ok: boolean;
  readonly status?: number;
  readonly stored?: boolean;
  readonly error?: string;
}

export class Warmer {
  readonly #ctx: ProxyContext;
  readonly #log: Logger;
  readonly #slots = new Slots(WARM_CONCURRENCY);
  #timers: NodeJS.Timeout[] = [];

  constructor(ctx: ProxyContext, log: Logger) {
    this.#ctx = ctx;
    this.#log = log;
  }

  /** (Re)starts the timers for a policy's warm entries; the first run is immediate. */
  schedule(policy: CompiledPolicy): void {
    this.stop();
    for (const { path, everyMs, host } of policy.warm) {
      const target = { path, ...(host === undefined ? {} : { host }) };
      const run = () => void this.warm(this.#ctx.policy(), [target]);
      const first = setTimeout(run, 0);
      const timer = setInterval(run, everyMs);
      first.unref();
      timer.unref();
      this.#timers.push(first, timer);
    }
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
  }

  /** Warms the given targets (at most MAX_WARM_PATHS), or every spec.warm entry. */
  async warm(policy: CompiledPolicy, targets?: readonly WarmTarget[]): Promise<WarmResult[]> {
    const list = targets ?? policy.warm.map(({ path, host }) => ({ path, ...(host ? { host } : {}) }));
    if (list.length > MAX_WARM_PATHS) {
      throw new RangeError(`at most ${MAX_WARM_PATHS} paths per warm call (got ${list.length})`);
    }
    return Promise.all(list.map((target) => this.#slots.run(() => this.#warmOne(policy, target))));
  }

  async #warmOne(policy: CompiledPolicy, target: WarmTarget): Promise<WarmResult> {
    const { path } = target;
    try {
      const result = await handleFill(this.#ctx, policy, path, target.host ?? this.#ctx.upstream.host);
      if (!result.ok)
        this.#log.warn({ code: ERROR_CODES.WARM_FAILED, path, error: result.error }, "warming failed");
      return result;
    } catch (error) {
      this.#log.warn({ err: error, code: ERROR_CODES.WARM_FAILED, path }, "warming failed");
      return { path, ok: false, error: (error as Error).message };
    }
  }
}

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in order. */
export class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#free = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free += 1;
    }
  }
}
