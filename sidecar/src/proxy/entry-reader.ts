import type { Logger } from "pino";
import type { CacheEntry } from "../http-cache/entry.js";
import { decodeEntry, withBodyIn } from "../http-cache/entry-codec.js";
import type { CacheStore } from "../store/types.js";

/**
 * Reads entries from the store, failing open: a store error or timeout is a miss, never the client's
 * error. Decoded entries are remembered per stored Buffer (a WeakMap), so repeated L1 hits on the same
 * bytes decode once.
 */
export class EntryReader {
  readonly #store: CacheStore;
  readonly #log: Logger;
  readonly #decoded = new WeakMap<Buffer, CacheEntry>();

  constructor(store: CacheStore, log: Logger) {
    this.#store = store;
    this.#log = log;
  }

  /** `tags`: the request's tags, whose generations the store checks in the entry's round trip. */
  async read(key: string, tags: readonly string[]): Promise<CacheEntry | undefined> {
    return (await this.lookup(key, tags)).entry;
  }

  /** The entry, and whether the store failed to answer (then "no entry" means "unknown"). */
  async lookup(
    key: string,
    tags: readonly string[],
    shared = false,
  ): Promise<{ readonly entry?: CacheEntry | undefined; readonly failed: boolean }> {
    let bytes: Buffer | undefined;
    try {
      bytes = await this.#store.get(key, shared ? { tags, shared } : { tags });
    } catch (error) {
      this.#log.debug(
        { err: error, key, code: (error as { code?: string }).code },
        "store get failed; treating as a miss",
      );
      return { failed: true };
    }
    if (bytes === undefined) return { failed: false };
    const known = this.#decoded.get(bytes);
    if (known) return { entry: known, failed: false };
    const entry = decodeEntry(bytes);
    if (entry) this.#decoded.set(bytes, entry);
    return { entry, failed: false };
  }

  /**
   * Remembers the decoded form of bytes just encoded (the memory store hands the same Buffer back). It
   * lives as long as L1 keeps the bytes, so its body is a view into them, not the buffer the fill
   * collected: else every entry a fill put in L1 would keep its body twice, once uncounted.
   */
  remember(bytes: Buffer, entry: CacheEntry): void {
    this.#decoded.set(bytes, withBodyIn(bytes, entry));
  }
}
