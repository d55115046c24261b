import { Redis } from "ioredis";
import type { Logger } from "pino";
import { clientCommandTimeoutMs } from "./deadline.js";
import { DEFAULT_RECONNECT, type ReconnectOptions, reconnectDelay } from "./reconnect.js";
import { RedisBackedStore, TAG_DRAIN_COMMAND } from "./redis-backed-store.js";
import type { RedisNode } from "./redis-url.js";

/**
 * Redis standalone (ioredis). Tuned to fail fast: no offline queue (a command while disconnected
 * rejects at once), one retry per request, a short per-command timeout, reconnect with backoff
 * forever. RESP2, so any Redis ≥ 2.6-compatible server (and managed services) works.
 */
/** Connection and layout settings shared by the standalone and the cluster store. */
export interface RedisConnectionOptions {
  readonly tls?: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs?: number;
  readonly reconnect?: ReconnectOptions;
  /** Tag expiry slack (tests shorten it); see redis-layout.ts. */
  readonly tagExpirySlackMs?: number;
  readonly logger?: Logger;
  /** Clock for the write time recorded in each value (default Date.now). */
  readonly now?: () => number;
}

export interface RedisStoreOptions extends RedisConnectionOptions {
  readonly node: RedisNode;
  readonly db?: number;
}

export function createRedisStore(options: RedisStoreOptions): RedisBackedStore {
  const reconnect = options.reconnect ?? DEFAULT_RECONNECT;
  const client = new Redis({
    host: options.node.host,
    port: options.node.port,
    db: options.db ?? 0,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.tls ? { tls: { servername: options.node.host } } : {}),
    protocol: 2,
    connectionName: "apicache-sidecar",
    commandTimeout: clientCommandTimeoutMs(options.commandTimeoutMs),
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    // A write's invalidation is this one script call: sending it at once saves the event-loop turn
    // (and the pipeline) that auto-pipelining spends waiting for company.
    autoPipeliningIgnoredCommands: [TAG_DRAIN_COMMAND],
    retryStrategy: (attempt) => reconnectDelay(attempt, reconnect),
  });
  return new RedisBackedStore({
    name: "redis",
    client,
    keyPrefix: options.keyPrefix,
    commandTimeoutMs: options.commandTimeoutMs,
    multiKeyDelete: true,
    ...(options.tagExpirySlackMs === undefined ? {} : { tagExpirySlackMs: options.tagExpirySlackMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}
