import type { Logger } from "pino";
import type { CacheStore } from "../store/types.js";
import type { InvalidationSource } from "../telemetry/metric-names.js";
import type { SidecarMetrics } from "../telemetry/metrics.js";
import type { Coalescer } from "./coalescer.js";

/**
 * Drops entries by tag and key, and remembers recent invalidations so a fill that started before one
 * does not store what it fetched (it may predate the write). Together with detaching in-flight fills,
 * this is what makes "a read after a write's response never sees old data" hold within a pod.
 */
export interface InvalidationRequest {
  readonly policy: string;
  readonly source: InvalidationSource;
  /** Metric `rule` labels, one per rule that matched (or target-uri / admin). */
  readonly rules: readonly string[];
  readonly tags: readonly string[];
  readonly keys: readonly string[];
}

interface Recent {
  readonly seq: number;
  readonly tags: ReadonlySet<string>;
  readonly keys: ReadonlySet<string>;
}

const REMEMBERED = 512;

export class Invalidator {
  #seq = 0;
  readonly #recent: Recent[] = [];
  readonly #store: CacheStore;
  readonly #coalescer: Coalescer<unknown>;
  readonly #metrics: SidecarMetrics;
  readonly #log: Logger;
  readonly #listeners: ((tags: readonly string[], keys: readonly string[]) => void)[] = [];

  constructor(options: {
    store: CacheStore;
    coalescer: Coalescer<unknown>;
    metrics: SidecarMetrics;
    log: Logger;
  }) {
    this.#store = options.store;
    this.#coalescer = options.coalescer;
    this.#metrics = options.metrics;
    this.#log = options.log;
  }

  /** The current sequence number; a fill records it when it starts. */
  get seq(): number {
    return this.#seq;
  }

  /** Whether an invalidation touching this key or any of these tags ran after `seq`. */
  invalidatedSince(seq: number, key: string, tags: readonly string[]): boolean {
    if (seq === this.#seq) return false;
    const oldest = this.#recent[0];
    if (oldest === undefined || oldest.seq > seq + 1) return true; // forgotten: assume yes
    for (let i = this.#recent.length - 1; i >= 0; i--) {
      const recent = this.#recent[i] as Recent;
      if (recent.seq <= seq) break;
      if (recent.keys.has(key) || tags.some((tag) => recent.tags.has(tag))) return true;
    }
    return false;
  }

  onInvalidate(listener: (tags: readonly string[], keys: readonly string[]) => void): void {
    this.#listeners.push(listener);
  }

  /** Drops the entries; resolves to how many were removed. Store failures are logged, not thrown. */
  async invalidate(request: InvalidationRequest): Promise<number> {
    const tags = new Set(request.tags);
    const keys = new Set(request.keys);
    if (tags.size === 0 && keys.size === 0) return 0;
    this.#seq++;
    this.#recent.push({ seq: this.#seq, tags, keys });
    if (this.#recent.length > REMEMBERED) this.#recent.shift();
    this.#coalescer.detach(keys, tags);
    for (const listener of this.#listeners) listener(request.tags, request.keys);
    let removed = 0;
    try {
      const [byTag, byKey] = await Promise.all([
        tags.size > 0 ? this.#store.deleteTags([...tags]) : 0,
        keys.size > 0 ? this.#store.delete([...keys]) : 0,
      ]);
      removed = byTag + byKey;
    } catch (error) {
      this.#log.error(
        { err: error, code: (error as { code?: string }).code, tags: [...tags], keys: [...keys] },
        "invalidation failed in the store; entries may stay until they expire",
      );
    }
    for (const rule of request.rules)
      this.#metrics.invalidations.labels(request.policy, rule, request.source).inc();
    this.#metrics.invalidatedEntries.labels(request.policy, request.source).inc(removed);
    return removed;
  }
}
