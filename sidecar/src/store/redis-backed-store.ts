import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { clientCommandTimeoutMs, withDeadline } from "./deadline.js";
import {
  StoreError,
  storeBulkTimeout,
  storeClosed,
  storeCommandFailed,
  storeSlotMoved,
  storeTimeout,
  storeUnavailable,
} from "./errors.js";
import { pushesWritten } from "./push-barrier.js";
import { decodeValue, generationsHold } from "./redis-envelope.js";
import {
  entryKey,
  generationKey,
  KEY_INVALIDATION_MARK_MS,
  keyInvalidationKey,
  TAG_DRAIN_LUA,
  TAG_EXPIRY_SLACK_MS,
  tagKey,
  validateKeyPrefix,
} from "./redis-layout.js";
import {
  type CheckedFence,
  defineWriteCommands,
  dropGenerations,
  type EntryWrite,
  ensureGenerations,
  fenceTooOld,
  readGenerations,
  writeEntry,
  writeFencedScripted,
  writeFencedStepwise,
} from "./redis-writes.js";
import { refreshSlotsOnMove } from "./slot-refresh.js";
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
 * What the standalone and the cluster store share: the same commands over an ioredis `Redis` or
 * `Cluster` client with auto-pipelining (commands issued in one tick leave in one write per node).
 * Every command touches exactly one key, so nothing here is cross-slot; the standalone store may
 * additionally batch DEL/UNLINK over many keys (`multiKeyDelete`).
 *
 * Every operation has a deadline (commandTimeoutMs per round trip) on top of ioredis's own
 * `commandTimeout`: a command that is retried, redirected or queued inside the client still rejects
 * in time with APICACHE_ERR_STORE_TIMEOUT.
 */
export interface RedisBackedStoreOptions {
  readonly name: string;
  readonly client: Redis | Cluster;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly multiKeyDelete: boolean;
  /** Added to tag members' expiry scores and tag set TTLs (default TAG_EXPIRY_SLACK_MS). */
  readonly tagExpirySlackMs?: number;
  readonly logger?: Logger;
  /** Clock for the write time recorded in each value (default Date.now). */
  readonly now?: () => number;
}

/** The name the tag-drain script is defined under on the client (TAG_DRAIN_LUA). */
export const TAG_DRAIN_COMMAND = "apicacheTagDrain";

interface TagDrainCommand {
  /** numberOfKeys, the tag keys and their generations, then prefix, page size, drop (TAG_DRAIN_LUA). */
  apicacheTagDrain(...args: (string | number)[]): Promise<number[]>;
}

const DELETE_BATCH = 500;
/** Tag members read, unlinked and removed per round trip when invalidating a tag. */
const TAG_PAGE = 500;
/**
 * Tags per drain script call: the script unpacks their generation keys at once, and Lua's C stack
 * takes about 8,000 values ("too many results to unpack"); an admin invalidation may name more.
 */
const SCRIPT_TAGS = 2_000;
/** Upper bound of one tag invalidation, however many entries it covers. */
const BULK_CAP_MS = 30_000;

interface BulkProgress {
  removed: number;
  readonly started: number;
  budgetMs: number;
}

type Operation = "get" | "set" | "delete" | "delete_tags" | "fence";

function classify(store: string, operation: Operation, timeoutMs: number, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/timed out/i.test(message)) return storeTimeout(store, operation, timeoutMs);
  const isReply = error instanceof Error && error.name === "ReplyError";
  // A slot moved, as in a failover: ioredis follows a redirection by itself only when every command of
  // an auto-pipeline got the same one, so commands of several slots pipelined to the old owner each
  // get their own raw MOVED (or ASK) reply.
  if (isReply && /^(MOVED|ASK)\s/.test(message)) return storeSlotMoved(store, operation, error);
  // Transient: the cluster or the server cannot take it now (OOM: maxmemory reached; BUSY: a script).
  if (isReply && !/^(CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|READONLY|OOM|BUSY)(\s|$)/.test(message)) {
    return storeCommandFailed(store, operation, error);
  }
  return storeUnavailable(store, operation, error);
}

/** Reply texts of a Redis (or a proxy in front of it) that does not run apicache's multi-key scripts. */
const SCRIPT_REFUSED = /not declared|CROSSSLOT|unknown command|NOPERM|not allowed|disabled|not supported/i;

/** The message of a StoreError and of the reply that caused it. */
function errorText(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return `${error.message} ${cause instanceof Error ? cause.message : ""}`;
}

/** What to check when a connection fails on credentials or TLS (docs/security.md). */
function connectionHint(message: string): string | undefined {
  if (/WRONGPASS|NOAUTH|NOPERM|invalid password|user is disabled/i.test(message)) {
    return "Redis refused the credentials: check the user and password in the Redis URL (spec.store.redis.urlSecretRef)";
  }
  if (/certificate|self.signed|unable to verify|ERR_TLS|SSL|handshake/i.test(message)) {
    return "TLS failed: the sidecar trusts the system CAs plus NODE_EXTRA_CA_CERTS; check the server's certificate and its name";
  }
  return undefined;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class RedisBackedStore implements EntryStore {
  readonly name: string;
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #multiKeyDelete: boolean;
  /** Cleared when Redis refuses a multi-key script (a proxy or a managed service that forbids it). */
  #scriptAllowed = true;
  readonly #slackMs: number;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  #closed = false;
  #reachable = true;
  #everReady = false;
  readonly #firstReady: Promise<void>;

  constructor(options: RedisBackedStoreOptions) {
    this.name = options.name;
    this.#client = options.client;
    this.#prefix = validateKeyPrefix(options.keyPrefix);
    this.#timeoutMs = options.commandTimeoutMs;
    this.#multiKeyDelete = options.multiKeyDelete;
    this.#slackMs = options.tagExpirySlackMs ?? TAG_EXPIRY_SLACK_MS;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    defineWriteCommands(this.#client, this.#multiKeyDelete);
    if (this.#multiKeyDelete) this.#client.defineCommand(TAG_DRAIN_COMMAND, { lua: TAG_DRAIN_LUA });
    this.#client.on("error", (error: Error) => this.#onConnectionError(error));
    this.#client.on("ready", () => this.#onReady());
    this.#firstReady = new Promise((resolve) => this.#client.once("ready", () => resolve()));
  }

  /** Resolves once the client has connected for the first time (tests and benchmarks await it). */
  ready(): Promise<void> {
    return this.#firstReady;
  }

  /** The ioredis client (tests and the benchmark read `status`; nothing else should use it). */
  get client(): Redis | Cluster {
    return this.#client;
  }

  async get(key: string, options?: GetOptions): Promise<Buffer | undefined> {
    return (await this.getEntry(key, options))?.value;
  }

  /**
   * The entry, if every generation it recorded is still current (ADR 0008): the entry's GET and the
   * generations of the tags the caller expects (`options.tags`) leave in one round trip; tags the
   * entry carries beyond those cost a second. A generation that moved or is missing, or an envelope
   * without generations, is a miss.
   */
  async getEntry(key: string, options?: GetOptions): Promise<StoredEntry | undefined> {
    const expected = options?.tags ?? [];
    return this.#run("get", options?.tags === undefined ? 2 : 1, async () => {
      const [stored, generations] = await Promise.all([
        this.#client.getBuffer(entryKey(this.#prefix, key)),
        readGenerations(this.#client, this.#prefix, expected, this.#multiKeyDelete),
      ]);
      if (stored === null) return undefined;
      const decoded = decodeValue(stored);
      if (decoded?.generations === undefined) return undefined;
      const recorded = { tags: decoded.tags, generations: decoded.generations };
      let verdict = generationsHold(recorded, expected, generations);
      if (Array.isArray(verdict)) {
        // The entry carries tags the caller did not name (its route's tags changed): one more round trip.
        const more = await readGenerations(this.#client, this.#prefix, verdict, this.#multiKeyDelete);
        verdict = generationsHold(recorded, [...expected, ...verdict], [...generations, ...more]);
      }
      if (verdict !== true) return undefined;
      const { value, tags, writtenAt } = decoded;
      const ttlMs = (decoded.expiresAt ?? 0) - this.#now();
      return { value, tags, writtenAt, ttlMs: ttlMs > 0 ? ttlMs : 1 };
    });
  }

  /**
   * The tags' generations: what a fill's write must still find. Read in one round trip (one MGET on
   * standalone Redis); the ones missing (never created, invalidated, or lost) are created with fresh
   * tokens in a second.
   */
  async fence(tags: readonly string[]): Promise<Fence> {
    const sorted = [...new Set(tags)].sort();
    const takenAt = performance.now();
    if (sorted.length === 0) return { tags: sorted, generations: [], takenAt };
    const generations = await this.#run("fence", 2, async () => {
      const current = await readGenerations(this.#client, this.#prefix, sorted, this.#multiKeyDelete);
      const missing = sorted.filter((_, index) => current[index] === null);
      if (missing.length === 0) return current as string[];
      const created = await ensureGenerations(this.#client, this.#prefix, missing);
      return sorted.map((tag, index) => current[index] ?? (created[missing.indexOf(tag)] as string));
    });
    return { tags: sorted, generations, takenAt };
  }

  /**
   * Every entry records its tags' generations. Unfenced: the current ones, then the entry (two round
   * trips). Fenced (a fill's write): the fence's, checked and written atomically by one script on
   * standalone Redis; on a cluster, or when Redis refuses the script, in steps (writeFencedStepwise).
   */
  async set(key: string, value: Buffer, options: SetOptions): Promise<boolean> {
    const ttlMs = Math.ceil(options.ttlMs);
    if (!(ttlMs > 0)) {
      await this.delete([key]);
      return true;
    }
    const tags = [...new Set(options.tags)];
    const write: EntryWrite = { key, value, ttlMs, tagTtlMs: ttlMs + this.#slackMs, tags, now: this.#now() };
    const fence = options.fence;
    // A fill whose fence could not be taken does not write here: it may predate a write.
    if (fence?.unavailable) return false;
    if (fence?.generations === undefined) {
      await this.#run("set", 2, () => writeEntry(this.#client, this.#prefix, write));
      return true;
    }
    if (fenceTooOld(fence)) return false;
    return this.#writeFenced(write, { ...fence, generations: fence.generations });
  }

  async #writeFenced(write: EntryWrite, fence: CheckedFence): Promise<boolean> {
    if (this.#multiKeyDelete && this.#scriptAllowed) {
      try {
        return await this.#run("set", 2, () => writeFencedScripted(this.#client, this.#prefix, write, fence));
      } catch (error) {
        if (!this.#refusedScript(error)) throw error;
      }
    }
    return this.#run("set", 3, () => writeFencedStepwise(this.#client, this.#prefix, write, fence));
  }

  /**
   * Whether Redis refused a multi-key script itself (a proxy or a managed service that forbids
   * undeclared or cross-slot keys, or scripts): if so, never send one again (and say so once). Other
   * command errors (a wrong type, say) are not a reason to give scripts up.
   */
  #refusedScript(error: unknown): boolean {
    if (!(error instanceof StoreError && error.code === "APICACHE_ERR_STORE_COMMAND")) return false;
    if (!SCRIPT_REFUSED.test(errorText(error))) return false;
    this.#scriptAllowed = false;
    this.#logger?.warn(
      { err: error, store: this.name },
      "Redis refused a multi-key script; invalidating and storing in several commands from now on",
    );
    return true;
  }

  /**
   * Unlinks the entries, then marks the keys invalidated (keyInvalidationKey: set and dropped, which
   * Redis pushes to every pod's L1). After, not with: a pod that dropped its copy on the mark must not
   * read the old entry again. Then waits until those pushes are written (push-barrier.ts).
   */
  async delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.#run("delete", 3, async () => {
      const removed = await this.#unlink(keys.map((key) => entryKey(this.#prefix, key)));
      const marks = keys.map((key) => keyInvalidationKey(this.#prefix, key));
      await Promise.all(
        marks.map((mark) =>
          Promise.all([
            this.#client.set(mark, "1", "PX", KEY_INVALIDATION_MARK_MS),
            this.#client.unlink(mark),
          ]),
        ),
      );
      await pushesWritten(this.#client, marks);
      return removed;
    });
  }

  /**
   * Drops every entry the tags index, a page (TAG_PAGE members) per tag set and round trip, until
   * the sets are empty. Standalone: one script call per round trip pages all the tags at once
   * (TAG_DRAIN_LUA: read a page, unlink those entries, remove exactly those members, atomically), so
   * a write's invalidation is usually one round trip. Cluster: per tag, ZRANGE a page (all tags in one
   * pipelined round trip per node), unlink those entries, then ZREM those members — members are
   * removed only after their entries are gone, so a failure midway leaves them indexed for the retry.
   *
   * Each round trip has the per-command deadline (a slow command is a Redis failure, as everywhere);
   * the whole invalidation is bounded by a budget that grows with the number of pages (capped at
   * BULK_CAP_MS), and running past it rejects with APICACHE_ERR_STORE_BULK_TIMEOUT, which does not
   * count toward the breaker. Then one more round trip per node whose generations were dropped, so
   * that their pushes are written before the caller answers its client (push-barrier.ts).
   */
  async deleteTags(tags: readonly string[]): Promise<number> {
    const unique = [...new Set(tags)];
    if (unique.length === 0) return 0;
    if (this.#closed) throw storeClosed(this.name, "delete_tags");
    await this.#whenReady("delete_tags");
    const removed = await this.#drain(unique);
    const generations = unique.map((tag) => generationKey(this.#prefix, tag));
    await this.#step(() => pushesWritten(this.#client, generations));
    return removed;
  }

  async #drain(unique: readonly string[]): Promise<number> {
    if (this.#multiKeyDelete && this.#scriptAllowed) {
      // The script touches entry keys it cannot declare; Redis proxies and some managed services refuse
      // that. Then fall back, for good, to the multi-round-trip drain (same result, more round trips).
      try {
        let removed = 0;
        for (const chunk of chunks(unique, SCRIPT_TAGS)) removed += await this.#drainScripted(chunk);
        return removed;
      } catch (error) {
        if (!this.#refusedScript(error)) throw error;
      }
    }
    // Generations first: from here on no read accepts an entry that recorded them, and no fill whose
    // fence read them can store (see redis-layout.ts).
    await this.#step(() => dropGenerations(this.#client, this.#prefix, unique));
    return this.#drainPaged(unique.map((tag) => tagKey(this.#prefix, tag)));
  }

  async #drainScripted(tags: readonly string[]): Promise<number> {
    const client = this.#client as unknown as TagDrainCommand;
    const entryPrefix = entryKey(this.#prefix, "");
    const generationOf = new Map(
      tags.map((tag) => [tagKey(this.#prefix, tag), generationKey(this.#prefix, tag)] as const),
    );
    const progress = { removed: 0, started: performance.now(), budgetMs: 0 };
    let pending = [...generationOf.keys()];
    let drop = 1;
    while (pending.length > 0) {
      const keys = pending;
      const generations = keys.map((key) => generationOf.get(key) as string);
      const reply = await this.#step(() =>
        client.apicacheTagDrain(2 * keys.length, ...keys, ...generations, entryPrefix, TAG_PAGE, drop),
      );
      drop = 0;
      const next: string[] = [];
      let pages = 0;
      keys.forEach((key, index) => {
        progress.removed += Number(reply[2 * index] ?? 0);
        const left = Number(reply[2 * index + 1] ?? 0);
        if (left > 0) next.push(key);
        pages += Math.ceil(left / TAG_PAGE);
      });
      if (progress.budgetMs === 0) {
        progress.budgetMs = Math.min(BULK_CAP_MS, this.#timeoutMs * 4 * (pages + keys.length + 1));
      }
      if (next.length > 0) this.#checkBudget(progress);
      pending = next;
    }
    return progress.removed;
  }

  async #drainPaged(tagKeys: readonly string[]): Promise<number> {
    const started = performance.now();
    const first = await this.#step(() =>
      Promise.all(tagKeys.map((key) => Promise.all([this.#client.zcard(key), this.#firstPage(key)]))),
    );
    const pages = first.reduce((sum, [card]) => sum + Math.ceil(card / TAG_PAGE), 0);
    const budgetMs = Math.min(BULK_CAP_MS, this.#timeoutMs * 4 * (pages + 1));
    const progress = { removed: 0, started, budgetMs };
    await Promise.all(tagKeys.map((key, index) => this.#drainTag(key, first[index]?.[1] ?? [], progress)));
    return progress.removed;
  }

  #checkBudget(progress: BulkProgress): void {
    const elapsed = performance.now() - progress.started;
    if (elapsed > progress.budgetMs) {
      throw storeBulkTimeout(this.name, "delete_tags", Math.round(progress.budgetMs), progress.removed);
    }
  }

  health(): StoreHealth {
    if (this.#closed) return { ok: false, detail: "closed" };
    const status = this.#client.status;
    return status === "ready" ? { ok: true } : { ok: false, detail: status };
  }

  stats(): StoreStats {
    return {};
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#client.status === "ready") {
        await withDeadline(this.#client.quit(), 500, () => new Error("quit timed out"));
      }
    } catch {
      // Closing anyway: disconnect below drops the socket.
    } finally {
      this.#client.disconnect();
    }
  }

  async #unlink(redisKeys: readonly string[]): Promise<number> {
    const counts = this.#multiKeyDelete
      ? chunks(redisKeys, DELETE_BATCH).map((batch) => this.#client.unlink(...batch))
      : redisKeys.map((key) => this.#client.unlink(key));
    const settled = await Promise.all(counts);
    return settled.reduce((sum, count) => sum + count, 0);
  }

  #firstPage(key: string): Promise<string[]> {
    return this.#client.zrange(key, "0", String(TAG_PAGE - 1));
  }

  async #drainTag(key: string, firstPage: readonly string[], progress: BulkProgress): Promise<void> {
    let members = firstPage;
    while (members.length > 0) {
      const page = members;
      const removed = await this.#step(() =>
        this.#unlink(page.map((member) => entryKey(this.#prefix, member))),
      );
      progress.removed += removed;
      await this.#step(() => this.#client.zrem(key, ...page));
      if (page.length < TAG_PAGE) return;
      this.#checkBudget(progress);
      members = await this.#step(() => this.#firstPage(key));
    }
  }

  /** One round trip of a bulk operation, under the per-command deadline. */
  async #step<T>(work: () => Promise<T>): Promise<T> {
    const ms = this.#timeoutMs;
    try {
      if (this.#closed) throw storeClosed(this.name, "delete_tags");
      return await withDeadline(work(), ms, () => storeTimeout(this.name, "delete_tags", ms));
    } catch (error) {
      throw this.#classify("delete_tags", ms, error);
    }
  }

  /** Before the first connection, waits for it (within one command deadline). */
  async #whenReady(operation: Operation): Promise<void> {
    if (this.#everReady) return;
    const ms = this.#timeoutMs;
    try {
      await withDeadline(this.#firstReady, ms, () => storeTimeout(this.name, operation, ms));
    } catch (error) {
      throw this.#classify(operation, ms, error);
    }
  }

  async #run<T>(operation: Operation, roundTrips: number, work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw storeClosed(this.name, operation);
    // A set stores a fill after its clients were answered: no request waits on it (its flight stays
    // joinable meanwhile), so it gets the background bound, not the request path's command timeout.
    const perTrip = operation === "set" ? clientCommandTimeoutMs(this.#timeoutMs) : this.#timeoutMs;
    const ms = perTrip * roundTrips;
    const timeout = () => storeTimeout(this.name, operation, ms);
    try {
      // Until the first connection, wait for it (within the deadline) rather than failing at once;
      // afterwards a disconnected client rejects immediately (no offline queue).
      if (!this.#everReady) {
        const started = performance.now();
        await withDeadline(this.#firstReady, ms, timeout);
        return await withDeadline(work(), Math.max(1, ms - (performance.now() - started)), timeout);
      }
      return await withDeadline(work(), ms, timeout);
    } catch (error) {
      throw this.#classify(operation, this.#timeoutMs, error);
    }
  }

  /** A failure as a StoreError; a slot that moved refreshes a cluster client's slots at once. */
  #classify(operation: Operation, ms: number, error: unknown): StoreError {
    const failure = classify(this.name, operation, ms, error);
    refreshSlotsOnMove(this.#client, failure);
    return failure;
  }

  #onConnectionError(error: Error): void {
    if (this.#closed) return;
    if (this.#reachable) {
      this.#reachable = false;
      // The code and the reply's text only: ioredis errors carry the failed command's arguments
      // (`command.args`: HELLO 3 AUTH <user> <password>), which must never reach a log line.
      const hint = connectionHint(error.message);
      this.#logger?.warn(
        {
          store: this.name,
          code: "APICACHE_ERR_STORE_UNAVAILABLE",
          err: error.message,
          ...(hint === undefined ? {} : { hint }),
        },
        "Redis connection failed; serving from L1 and the upstream while reconnecting",
      );
    }
  }

  #onReady(): void {
    this.#everReady = true;
    if (!this.#reachable) this.#logger?.info({ store: this.name }, "Redis connection restored");
    this.#reachable = true;
  }
}
