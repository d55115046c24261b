import type { Logger } from "pino";
import { ERROR_CODES } from "../errors.js";
import type { ProxyContext } from "../proxy/context.js";
import { handleFill } from "../proxy/warm-fill.js";
import type { CompiledPolicy } from "../routing/compile-policy.js";

/**
 * spec.warm: refreshes each listed path every `every`, through the cache path (a coalesced fill), so
 * the entry is stored under the key a client with the most recently seen Host would use.
 */
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
  #timers: NodeJS.Timeout[] = [];

  constructor(ctx: ProxyContext, log: Logger) {
    this.#ctx = ctx;
    this.#log = log;
  }

  /** (Re)starts the timers for a policy's warm entries; the first run is immediate. */
  schedule(policy: CompiledPolicy): void {
    this.stop();
    for (const { path, everyMs } of policy.warm) {
      const run = () => void this.warm(this.#ctx.policy(), [path]);
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

  /** Warms the given paths, or every spec.warm path. */
  async warm(policy: CompiledPolicy, paths?: readonly string[]): Promise<WarmResult[]> {
    const targets = paths ?? policy.warm.map((warm) => warm.path);
    return Promise.all(targets.map((path) => this.#warmOne(policy, path)));
  }

  async #warmOne(policy: CompiledPolicy, path: string): Promise<WarmResult> {
    try {
      const result = await handleFill(this.#ctx, policy, path);
      if (!result.ok)
        this.#log.warn({ code: ERROR_CODES.WARM_FAILED, path, error: result.error }, "warming failed");
      return result;
    } catch (error) {
      this.#log.warn({ err: error, code: ERROR_CODES.WARM_FAILED, path }, "warming failed");
      return { path, ok: false, error: (error as Error).message };
    }
  }
}
