import { Cluster } from "ioredis";
import { clientCommandTimeoutMs } from "./deadline.js";
import { DEFAULT_RECONNECT, reconnectDelay } from "./reconnect.js";
import { RedisBackedStore } from "./redis-backed-store.js";
import type { RedisConnectionOptions } from "./redis-store.js";
import type { RedisNode } from "./redis-url.js";

/**
 * Redis Cluster (ioredis `Cluster`). The same commands as the standalone store, each on one key, so
 * no command is ever cross-slot: an entry and its tag sets hash to different slots and are written
 * and deleted by separate single-key commands (auto-pipelined per node). Fails fast like the
 * standalone store: no offline queue, short timeouts, few redirections, reconnect with backoff.
 *
 * The slots are refreshed every SLOTS_REFRESH_INTERVAL_MS, not only on a redirection: Redis pushes a
 * change to the L1 invalidation connections on the node where it happens (ADR 0018), and those follow
 * the masters this client knows. A pod serving from L1 never asks Redis, so without a refresh it would
 * not learn of a master that joined and took slots, and would keep the L1 copies that master's writes
 * invalidate (ioredis does not refresh periodically by default).
 */
export const SLOTS_REFRESH_INTERVAL_MS = 1_000;

export interface RedisClusterStoreOptions extends RedisConnectionOptions {
  readonly nodes: readonly RedisNode[];
}

export function createRedisClusterStore(options: RedisClusterStoreOptions): RedisBackedStore {
  const reconnect = options.reconnect ?? DEFAULT_RECONNECT;
  const client = new Cluster(
    options.nodes.map((node) => ({ host: node.host, port: node.port })),
    {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      maxRedirections: 4,
      retryDelayOnFailover: Math.max(10, Math.floor(options.commandTimeoutMs / 4)),
      retryDelayOnClusterDown: Math.max(10, Math.floor(options.commandTimeoutMs / 4)),
      retryDelayOnTryAgain: Math.max(10, Math.floor(options.commandTimeoutMs / 4)),
      slotsRefreshTimeout: Math.max(200, options.commandTimeoutMs * 4),
      slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
      clusterRetryStrategy: (attempt) => reconnectDelay(attempt, reconnect),
      redisOptions: {
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password }),
        ...(options.tls ? { tls: {} } : {}),
        protocol: 2,
        connectionName: "apicache-sidecar",
        commandTimeout: clientCommandTimeoutMs(options.commandTimeoutMs),
        connectTimeout: options.connectTimeoutMs ?? 2_000,
        maxRetriesPerRequest: 1,
      },
    },
  );
  return new RedisBackedStore({
    name: "redis-cluster",
    client,
    keyPrefix: options.keyPrefix,
    commandTimeoutMs: options.commandTimeoutMs,
    multiKeyDelete: false,
    ...(options.tagExpirySlackMs === undefined ? {} : { tagExpirySlackMs: options.tagExpirySlackMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}
