import type { StoreOperation } from "../telemetry/metric-names.js";
import { errorReason } from "./errors.js";
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
 * Called once per store operation with its duration; `errorReason` (a `StoreError` reason such as
 * "timeout", "unavailable", "circuit_open") is set when it failed. The data path maps it to
 * `apicache_store_operation_duration_seconds{store,operation}` and `apicache_store_errors_total`.
 */
export type OperationObserver = (
  store: string,
  operation: StoreOperation,
  seconds: number,
  errorReason?: string,
) => void;

/** A decorator that reports every operation of the store it wraps; behaviour is unchanged. */
export class InstrumentedStore implements EntryStore {
  readonly name: string;
  readonly #inner: EntryStore;
  readonly #observe: OperationObserver;

  constructor(inner: EntryStore, observe: OperationObserver, name: string = inner.name) {
    this.name = name;
    this.#inner = inner;
    this.#observe = observe;
  }

  get(key: string, options?: GetOptions): Promise<Buffer | undefined> {
    return this.#timed("get", () => this.#inner.get(key, options));
  }

  getEntry(key: string, options?: GetOptions): Promise<StoredEntry | undefined> {
    return this.#timed("get", () => this.#inner.getEntry(key, options));
  }

  set(key: string, value: Buffer, options: SetOptions): Promise<boolean> {
    return this.#timed("set", () => this.#inner.set(key, value, options));
  }

  fence(tags: readonly string[]): Promise<Fence> {
    return this.#timed("fence", () => this.#inner.fence(tags));
  }

  delete(keys: readonly string[]): Promise<number> {
    return this.#timed("delete", () => this.#inner.delete(keys));
  }

  deleteTags(tags: readonly string[]): Promise<number> {
    return this.#timed("delete_tags", () => this.#inner.deleteTags(tags));
  }

  health(): StoreHealth {
    return this.#inner.health();
  }

  stats(): StoreStats {
    return this.#inner.stats();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Not an async function: one promise per operation, not two (it is on every L1 hit, ADR 0027). */
  #timed<T>(operation: StoreOperation, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let pending: Promise<T>;
    try {
      pending = work();
    } catch (error) {
      this.#report(operation, started, errorReason(error));
      return Promise.reject(error);
    }
    return pending.then(
      (result) => {
        this.#report(operation, started);
        return result;
      },
      (error: unknown) => {
        this.#report(operation, started, errorReason(error));
        throw error;
      },
    );
  }

  #report(operation: StoreOperation, started: number, reason?: string): void {
    const seconds = (performance.now() - started) / 1000;
    try {
      if (reason === undefined) this.#observe(this.name, operation, seconds);
      else this.#observe(this.name, operation, seconds, reason);
    } catch {
      // A broken observer must never break the data path.
    }
  }
}
