import { StoreError, storeTimeout } from "../src/store/errors.js";
import { MemoryStore } from "../src/store/memory-store.js";
import type {
  EntryStore,
  Fence,
  SetOptions,
  StoredEntry,
  StoreHealth,
  StoreStats,
} from "../src/store/types.js";

/**
 * A fake backend for unit tests of the decorators (breaker, instrumentation, tiered): a memory store
 * that counts the calls that reach it and fails on demand with the error a dead Redis produces.
 */
export class FlakyStore implements EntryStore {
  readonly name = "fake-redis";
  readonly inner: MemoryStore;
  calls = 0;
  /** When set, every operation rejects with this error (after counting the call). */
  failWith: Error | undefined;

  constructor(now?: () => number) {
    this.inner = new MemoryStore({
      maxBytes: 1 << 20,
      ...(now === undefined ? {} : { now }),
      name: "fake-redis",
    });
  }

  down(error: Error = storeTimeout(this.name, "get", 50)): void {
    this.failWith = error;
  }

  up(): void {
    this.failWith = undefined;
  }

  get(key: string): Promise<Buffer | undefined> {
    return this.#call(() => this.inner.get(key));
  }

  getEntry(key: string): Promise<StoredEntry | undefined> {
    return this.#call(() => this.inner.getEntry(key));
  }

  set(key: string, value: Buffer, options: SetOptions): Promise<boolean> {
    return this.#call(() => this.inner.set(key, value, options));
  }

  fence(tags: readonly string[]): Promise<Fence> {
    return this.#call(() => this.inner.fence(tags));
  }

  delete(keys: readonly string[]): Promise<number> {
    return this.#call(() => this.inner.delete(keys));
  }

  deleteTags(tags: readonly string[]): Promise<number> {
    return this.#call(() => this.inner.deleteTags(tags));
  }

  health(): StoreHealth {
    return this.failWith === undefined ? { ok: true } : { ok: false, detail: "down" };
  }

  stats(): StoreStats {
    return {};
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async #call<T>(work: () => Promise<T>): Promise<T> {
    this.calls++;
    if (this.failWith !== undefined) throw this.failWith;
    return work();
  }
}

export const commandRefused = (): StoreError =>
  new StoreError("APICACHE_ERR_STORE_COMMAND", "OOM command not allowed when used memory > 'maxmemory'");

export function manualClock(start = 10_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
