import type { Logger } from "pino";
import { withDeadline } from "./deadline.js";
import { storeTimeout } from "./errors.js";
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
 * Makes a failover lose no invalidation that a read could notice (ADR 0020). Redis replicates
 * asynchronously: what the old primary acknowledged after the promoted replica stopped following it
 * (up to the whole promotion → `+switch-master` window of a SENTINEL FAILOVER, measured at about a
 * second, or the last milliseconds before a crash) is gone on the new primary, invalidations included,
 * and the entries they dropped are back with generations that still match.
 *
 * So the store records, in Redis, which primary it last saw (the replication id, which a promotion
 * changes) and a horizon: when a client connects and finds another primary than the one recorded
 * (or than the one it was on), the horizon moves to now plus a clock allowance, and every entry
 * written before the horizon is a miss (refetched and overwritten). Each (re)connect checks before
 * any read is answered; sidecars that did not reconnect pick the horizon up within `refreshMs`. A
 * fill whose fence was taken before a reconnect is not stored: it may carry pre-failover data.
 *
 * The Redis side (INFO, the recording script) is `PrimaryEpochProbe`, passed in: this class has no
 * Redis client, and is unit-tested with a fake.
 */
export interface PrimaryEpoch {
  /** The primary's replication id (`master_replid`). */
  readonly replid: string;
  /** Entries written before this time (ms since the epoch) are misses. */
  readonly horizon: number;
}

export interface PrimaryEpochProbe {
  /** Calls `listener` after every (re)connect, before any command of the new connection is answered. */
  onReady(listener: () => void): void;
  /**
   * Reads the primary's replication id and records it: if it differs from the recorded one, or
   * `previous` (the id this client was on) is known and differs, moves the shared horizon to now
   * plus the clock allowance. Resolves with the id and the shared horizon.
   */
  check(previous: string | undefined): Promise<PrimaryEpoch>;
  /** The shared horizon as recorded now (0 if none). */
  read(): Promise<number>;
}

export interface FailoverHorizonOptions {
  readonly probe: PrimaryEpochProbe;
  /** Longest a read waits for the check after a reconnect (then it fails: the sidecar fails open). */
  readonly commandTimeoutMs: number;
  /** How often the shared horizon is re-read (default 1 s). */
  readonly refreshMs?: number;
  /** Allowance for clocks when the check cannot run (default 1 s). */
  readonly skewMs?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
}

export const DEFAULT_HORIZON_REFRESH_MS = 1_000;

export class FailoverHorizonStore implements EntryStore {
  readonly name: string;
  readonly #inner: EntryStore;
  readonly #probe: PrimaryEpochProbe;
  readonly #timeoutMs: number;
  readonly #skewMs: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #refresh: NodeJS.Timeout;
  #horizon = 0;
  #replid: string | undefined;
  /** The check after the latest (re)connect, while it runs; from the start until the first one is done. */
  #checking: Promise<void> | undefined;
  #firstChecked: (() => void) | undefined;
  /** performance.now() of the latest (re)connect: fences taken before it are not trusted. */
  #connectedAt = Number.NEGATIVE_INFINITY;
  #warnedUnchecked = false;
  /** The latest check failed: the refresh runs it again (a failover it missed must still move the shared horizon). */
  #unconfirmed = false;
  #rereading = false;

  constructor(inner: EntryStore, options: FailoverHorizonOptions) {
    this.name = inner.name;
    this.#inner = inner;
    this.#probe = options.probe;
    this.#timeoutMs = options.commandTimeoutMs;
    this.#skewMs = options.skewMs ?? 1_000;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    // Nothing is read or written before the first check: an entry written earlier would carry a time
    // before the horizon that check may set.
    this.#checking = new Promise<void>((resolve) => {
      this.#firstChecked = resolve;
    });
    this.#probe.onReady(() => this.#onReady());
    this.#refresh = setInterval(() => void this.#reread(), options.refreshMs ?? DEFAULT_HORIZON_REFRESH_MS);
    this.#refresh.unref();
  }

  /** Entries written before this time (ms) are misses; 0 until a primary was recorded. */
  get horizon(): number {
    return this.#horizon;
  }

  async get(key: string, options?: GetOptions): Promise<Buffer | undefined> {
    return (await this.getEntry(key, options))?.value;
  }

  async getEntry(key: string, options?: GetOptions): Promise<StoredEntry | undefined> {
    if (this.#checking !== undefined) await this.#checked("get");
    const entry = await this.#inner.getEntry(key, options);
    if (entry === undefined) return undefined;
    // A reconnect while the read was in flight: ioredis resends unanswered commands to the new
    // primary right after its `ready`, so the answer can come from there before the check is done.
    if (this.#checking !== undefined) await this.#checked("get");
    if ((entry.writtenAt ?? 0) < this.#horizon) return undefined;
    return entry;
  }

  async set(key: string, value: Buffer, options: SetOptions): Promise<boolean> {
    // A fill fenced on the previous connection may have read the upstream before a write whose
    // invalidation the failover lost: the fence would still match on the new primary.
    const fence = options.fence;
    if (fence !== undefined && !fence.unavailable && fence.takenAt < this.#connectedAt) return false;
    if (this.#checking !== undefined) await this.#checked("set");
    return this.#inner.set(key, value, options);
  }

  async fence(tags: readonly string[]): Promise<Fence> {
    if (this.#checking !== undefined) await this.#checked("fence");
    return this.#inner.fence(tags);
  }

  delete(keys: readonly string[]): Promise<number> {
    return this.#inner.delete(keys);
  }

  deleteTags(tags: readonly string[]): Promise<number> {
    return this.#inner.deleteTags(tags);
  }

  health(): StoreHealth {
    return this.#inner.health();
  }

  stats(): StoreStats {
    return this.#inner.stats();
  }

  close(): Promise<void> {
    clearInterval(this.#refresh);
    return this.#inner.close();
  }

  async #checked(operation: "get" | "set" | "fence"): Promise<void> {
    const checking = this.#checking;
    if (checking === undefined) return;
    const ms = this.#timeoutMs;
    await withDeadline(checking, ms, () => storeTimeout(this.name, operation, ms));
  }

  #onReady(): void {
    this.#connectedAt = performance.now();
    const previous = this.#replid;
    const checking: Promise<void> = this.#probe.check(previous).then(
      (epoch) => this.#learn(previous, epoch),
      (error: unknown) => this.#unchecked(error),
    );
    const firstChecked = this.#firstChecked;
    this.#firstChecked = undefined;
    this.#checking = checking;
    void checking.finally(() => {
      firstChecked?.();
      if (this.#checking === checking) this.#checking = undefined;
    });
  }

  #learn(previous: string | undefined, epoch: PrimaryEpoch): void {
    this.#unconfirmed = false;
    this.#replid = epoch.replid;
    this.#horizon = Math.max(this.#horizon, epoch.horizon);
    if (previous !== undefined && previous !== epoch.replid) {
      this.#logger?.warn(
        { store: this.name, horizon: new Date(this.#horizon).toISOString() },
        "Redis primary changed (failover): entries written before the horizon are refetched, " +
          "as invalidations the old primary took may not have been replicated",
      );
    }
  }

  /** The check failed (a NOPERM on INFO, or the connection dropped again): distrust what is older. */
  #unchecked(error: unknown): void {
    this.#horizon = Math.max(this.#horizon, this.#now() + this.#skewMs);
    this.#unconfirmed = true;
    if (this.#warnedUnchecked) return;
    this.#warnedUnchecked = true;
    this.#logger?.warn(
      { store: this.name, err: error },
      "could not check which Redis primary this is; entries written before this reconnect are refetched",
    );
  }

  async #reread(): Promise<void> {
    if (this.#checking !== undefined || this.#rereading) return;
    this.#rereading = true;
    try {
      if (this.#unconfirmed) {
        // Only this sidecar distrusts what is older than its reconnect; if that was a failover, the
        // sidecars already on the new primary learn it from this check (it names the old primary).
        const previous = this.#replid;
        this.#learn(previous, await this.#probe.check(previous));
        return;
      }
      if (this.#replid === undefined) return;
      this.#horizon = Math.max(this.#horizon, await this.#probe.read());
    } catch {
      // Redis away: the next tick or reconnect tries again.
    } finally {
      this.#rereading = false;
    }
  }
}
