import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { withDeadline } from "./deadline.js";
import { StoreError, storeClosed, storeCommandFailed, storeTimeout, storeUnavailable } from "./errors.js";
import {
  decodeValue,
  encodeValue,
  entryKey,
  TAG_ADD_LUA,
  TAG_EXPIRY_SLACK_MS,
  tagKey,
  validateKeyPrefix,
} from "./redis-layout.js";
import type { EntryStore, SetOptions, StoredEntry, StoreHealth, StoreStats } from "./types.js";

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
}

interface TagAddCommand {
  apicacheTagAdd(key: string, member: string, ttlMs: number): Promise<number>;
}

const DELETE_BATCH = 500;

type Operation = "get" | "set" | "delete" | "delete_tags";

function classify(store: string, operation: Operation, timeoutMs: number, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/timed out/i.test(message)) return storeTimeout(store, operation, timeoutMs);
  const isReply = error instanceof Error && error.name === "ReplyError";
  if (isReply && !/^(CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|READONLY)/.test(message)) {
    return storeCommandFailed(store, operation, error);
  }
  return storeUnavailable(store, operation, error);
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
  readonly #slackMs: number;
  readonly #logger: Logger | undefined;
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
    this.#client.defineCommand("apicacheTagAdd", { numberOfKeys: 1, lua: TAG_ADD_LUA });
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

  async get(key: string): Promise<Buffer | undefined> {
    return (await this.getEntry(key))?.value;
  }

  async getEntry(key: string): Promise<StoredEntry | undefined> {
    return this.#run("get", 1, async () => {
      const redisKey = entryKey(this.#prefix, key);
      const [stored, ttlMs] = await Promise.all([
        this.#client.getBuffer(redisKey),
        this.#client.pttl(redisKey),
      ]);
      if (stored === null) return undefined;
      const decoded = decodeValue(stored);
      // PTTL -2: expired between the two commands; -1: no TTL (not written by apicache).
      if (decoded === undefined || ttlMs === -2) return undefined;
      return { value: decoded.value, tags: decoded.tags, ttlMs: ttlMs > 0 ? ttlMs : 1 };
    });
  }

  async set(key: string, value: Buffer, options: SetOptions): Promise<void> {
    const ttlMs = Math.ceil(options.ttlMs);
    if (!(ttlMs > 0)) {
      await this.delete([key]);
      return;
    }
    const tags = [...new Set(options.tags)];
    const stored = encodeValue(value, tags);
    await this.#run("set", 1, async () => {
      const client = this.#client as unknown as TagAddCommand;
      const writes: Promise<unknown>[] = tags.map((tag) =>
        client.apicacheTagAdd(tagKey(this.#prefix, tag), key, ttlMs + this.#slackMs),
      );
      writes.push(this.#client.set(entryKey(this.#prefix, key), stored, "PX", ttlMs));
      await Promise.all(writes);
    });
  }

  async delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.#run("delete", 1, () => this.#unlink(keys.map((key) => entryKey(this.#prefix, key))));
  }

  /**
   * Reads each tag's members, unlinks those entries, then removes exactly the members it read from
   * each tag set (ZREM, not DEL): a key tagged concurrently by a write in between stays indexed.
   */
  async deleteTags(tags: readonly string[]): Promise<number> {
    const unique = [...new Set(tags)];
    if (unique.length === 0) return 0;
    return this.#run("delete_tags", 2, async () => {
      const tagKeys = unique.map((tag) => tagKey(this.#prefix, tag));
      const memberLists = await Promise.all(tagKeys.map((key) => this.#client.zrange(key, "0", "-1")));
      const members = new Set<string>();
      for (const list of memberLists) for (const member of list) members.add(member);
      if (members.size === 0) return 0;
      const removals: Promise<unknown>[] = [];
      memberLists.forEach((list, index) => {
        const key = tagKeys[index] as string;
        for (const batch of chunks(list, DELETE_BATCH)) removals.push(this.#client.zrem(key, batch));
      });
      const [removed] = await Promise.all([
        this.#unlink([...members].map((member) => entryKey(this.#prefix, member))),
        ...removals,
      ]);
      return removed;
    });
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

  async #run<T>(operation: Operation, roundTrips: number, work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw storeClosed(this.name, operation);
    const ms = this.#timeoutMs * roundTrips;
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
      throw classify(this.name, operation, this.#timeoutMs, error);
    }
  }

  #onConnectionError(error: Error): void {
    if (this.#closed) return;
    if (this.#reachable) {
      this.#reachable = false;
      this.#logger?.warn(
        { store: this.name, err: error.message },
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
