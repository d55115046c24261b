import type { Logger } from "pino";
import { ERROR_CODES } from "../errors.js";
import type { ProxyContext } from "../proxy/context.js";
import type { CompiledPolicy } from "../routing/compile-policy.js";
import type { WarmRunOutcome } from "../telemetry/metric-names.js";
import { handleFill, type WarmResult } from "./warm-fill.js";
import { type WarmEntry, WarmLease } from "./warm-lease.js";

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

export interface WarmerOptions {
  /** One replica per interval warms each entry (warm-lease.ts); absent: this replica always warms. */
  readonly lease?: WarmLease;
  /** Counts scheduled runs (`apicache_warm_runs_total`). */
  readonly onRun?: (policy: string, entry: string, outcome: WarmRunOutcome) => void;
}

export class Warmer {
  readonly #ctx: ProxyContext;
  readonly #log: Logger;
  readonly #slots = new Slots(WARM_CONCURRENCY);
  readonly #lease: WarmLease;
  readonly #onRun: WarmerOptions["onRun"];
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(ctx: ProxyContext, log: Logger, options: WarmerOptions = {}) {
    this.#ctx = ctx;
    this.#log = log;
    this.#lease = options.lease ?? new WarmLease({ prefix: "" });
    this.#onRun = options.onRun;
  }

  /**
   * (Re)starts the timers for a policy's warm entries: the first run is immediate, the next ones at
   * the start of each `every`-long slot of the wall clock (the same moments on every replica).
   */
  schedule(policy: CompiledPolicy): void {
    this.stop();
    for (const entry of policy.warm) this.#arm(entry, 0);
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #arm(entry: WarmEntry, inMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#arm(entry, this.#lease.nextRunInMs(entry));
      void this.#scheduled(entry);
    }, inMs);
    timer.unref();
    this.#timers.add(timer);
  }

  /**
   * One scheduled run: warms the entry unless another replica took this slot; then looks once more
   * later in the slot (`retrySlot`), in case that replica's warm failed and it gave the slot up.
   */
  async #scheduled(entry: WarmEntry, retrySlot?: number): Promise<void> {
    const policy = this.#ctx.policy();
    const count = (outcome: WarmRunOutcome) => this.#onRun?.(policy.label, entry.path, outcome);
    const decision = await this.#lease.decide(entry, retrySlot);
    if (decision.verdict === "skip") {
      if (retrySlot === undefined) this.#retry(entry, decision.slot);
      return retrySlot === undefined ? count("skipped_other_replica") : undefined;
    }
    const target = { path: entry.path, ...(entry.host === undefined ? {} : { host: entry.host }) };
    const [result] = await this.warm(policy, [target]);
    if (!result?.ok) await decision.forfeit();
    count(result?.ok ? "warmed" : "failed");
  }

  #retry(entry: WarmEntry, slot: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#scheduled(entry, slot);
    }, this.#lease.retryInMs(entry));
    timer.unref();
    this.#timers.add(timer);
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
