import type { Logger } from "pino";
import { StoreError, storeCircuitOpen } from "./errors.js";
import type {
  EntryStore,
  Fence,
  GetOptions,
  SetOptions,
  StoredEntry,
  StoreHealth,
  StoreStats,
} from "./types.js";

/**
 * A circuit breaker around a store (usually Redis). After `failureThreshold` consecutive backend
 * failures (timeouts, connection errors) it opens: for `coolDownMs` every operation rejects at once
 * with APICACHE_ERR_STORE_CIRCUIT_OPEN without touching the backend. Then one operation goes
 * through as a probe (half-open): success closes the circuit, a backend failure re-opens it.
 * Other errors (a command Redis refused) prove the backend is reachable and do not count.
 *
 * State changes are lazy (evaluated on each call against the injected clock): no timers to leak.
 */
export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  readonly failureThreshold?: number;
  readonly coolDownMs?: number;
  readonly now?: () => number;
  readonly onStateChange?: (state: CircuitState, store: string) => void;
  readonly logger?: Logger;
}

export const DEFAULT_FAILURE_THRESHOLD = 5;
export const DEFAULT_COOL_DOWN_MS = 1_000;

type Admission = "pass" | "probe";

export class CircuitBreakerStore implements EntryStore {
  readonly name: string;
  readonly #inner: EntryStore;
  readonly #threshold: number;
  readonly #coolDownMs: number;
  readonly #now: () => number;
  readonly #onStateChange: ((state: CircuitState, store: string) => void) | undefined;
  readonly #logger: Logger | undefined;
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  #probing = false;

  constructor(inner: EntryStore, options: CircuitBreakerOptions = {}) {
    this.name = inner.name;
    this.#inner = inner;
    this.#threshold = Math.max(1, options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD);
    this.#coolDownMs = Math.max(0, options.coolDownMs ?? DEFAULT_COOL_DOWN_MS);
    this.#now = options.now ?? Date.now;
    this.#onStateChange = options.onStateChange;
    this.#logger = options.logger;
  }

  /** "closed" (normal), "open" (skipping the backend) or "half-open" (cool-down over, probing). */
  get state(): CircuitState {
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#coolDownMs) return "half-open";
    return this.#state;
  }

  /** Whether operations are currently being short-circuited (the `apicache_store_circuit_open` gauge). */
  get isOpen(): boolean {
    return this.#state !== "closed";
  }

  /**
   * Other evidence says the backend answers again (the L1 invalidation channel hears Redis): an open
   * circuit lets its next operation through as a probe without waiting out the cool-down.
   */
  probeNow(): void {
    if (this.#state === "open") this.#openedAt = this.#now() - this.#coolDownMs;
  }

  get(key: string, options?: GetOptions): Promise<Buffer | undefined> {
    return this.#call(() => this.#inner.get(key, options));
  }

  getEntry(key: string, options?: GetOptions): Promise<StoredEntry | undefined> {
    return this.#call(() => this.#inner.getEntry(key, options));
  }

  set(key: string, value: Buffer, options: SetOptions): Promise<boolean> {
    return this.#call(() => this.#inner.set(key, value, options));
  }

  fence(tags: readonly string[]): Promise<Fence> {
    return this.#call(() => this.#inner.fence(tags));
  }

  delete(keys: readonly string[]): Promise<number> {
    return this.#call(() => this.#inner.delete(keys));
  }

  deleteTags(tags: readonly string[]): Promise<number> {
    return this.#call(() => this.#inner.deleteTags(tags));
  }

  health(): StoreHealth {
    const state = this.state;
    if (state !== "closed") return { ok: false, detail: `circuit ${state}` };
    return this.#inner.health();
  }

  stats(): StoreStats {
    return { ...this.#inner.stats(), circuit: { store: this.name, open: this.isOpen } };
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #call<T>(operation: () => Promise<T>): Promise<T> {
    const admission = this.#admit();
    try {
      const result = await operation();
      this.#succeeded(admission);
      return result;
    } catch (error) {
      if (error instanceof StoreError && error.isBackendFailure) this.#failed(admission);
      else this.#succeeded(admission);
      throw error;
    }
  }

  #admit(): Admission {
    if (this.#state === "closed") return "pass";
    const waited = this.#now() - this.#openedAt;
    if (this.#state === "open" && waited >= this.#coolDownMs && !this.#probing) {
      this.#transition("half-open");
      this.#probing = true;
      return "probe";
    }
    throw storeCircuitOpen(this.name, this.#coolDownMs - waited);
  }

  #succeeded(admission: Admission): void {
    if (admission === "probe") {
      this.#probing = false;
      this.#transition("closed");
    }
    if (this.#state === "closed") this.#failures = 0;
  }

  #failed(admission: Admission): void {
    if (admission === "probe") {
      this.#probing = false;
      this.#open();
      return;
    }
    if (this.#state !== "closed") return;
    this.#failures++;
    if (this.#failures >= this.#threshold) this.#open();
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#failures = 0;
    this.#transition("open");
  }

  #transition(state: CircuitState): void {
    if (this.#state === state) return;
    const previous = this.#state;
    this.#state = state;
    if (state === "open" && previous === "closed") {
      this.#logger?.warn(
        { store: this.name, coolDownMs: this.#coolDownMs },
        "store circuit opened after repeated failures; requests bypass it until a probe succeeds",
      );
    } else if (state === "closed") {
      this.#logger?.info({ store: this.name }, "store circuit closed; the store is used again");
    }
    this.#onStateChange?.(state, this.name);
  }
}
