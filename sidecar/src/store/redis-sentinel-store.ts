import { Redis, type RedisOptions } from "ioredis";
import { clientCommandTimeoutMs } from "./deadline.js";
import { FailoverHorizonStore } from "./failover-horizon-store.js";
import { DEFAULT_RECONNECT, reconnectDelay } from "./reconnect.js";
import { RedisBackedStore, TAG_DRAIN_COMMAND } from "./redis-backed-store.js";
import { redisPrimaryEpoch } from "./redis-primary-epoch.js";
import type { RedisConnectionOptions } from "./redis-store.js";
import type { RedisNode } from "./redis-url.js";

/**
 * A primary found through Redis Sentinel (ioredis's Sentinel support): the same single connection,
 * commands and fail-fast tuning as the standalone store, but the address comes from the sentinels
 * (`SENTINEL get-master-addr-by-name`), is checked on every connect (`INFO` must say role:master,
 * else ioredis asks the next sentinel), and is asked again on every reconnect. On a failover the
 * connection drops (Sentinel kills the old primary's clients when it demotes it; the failover
 * detector drops it as soon as a sentinel announces `+switch-master`; a dead primary drops it
 * itself), commands reject at once meanwhile (no offline queue: the sidecar fails open to the
 * upstream and L1, and the circuit breaker stops trying), and the reconnect lands on the new primary.
 * What the old primary took but did not replicate is lost, invalidations included: the
 * FailoverHorizonStore around it makes the entries those could have dropped misses (ADR 0020).
 */
export interface RedisSentinelStoreOptions extends RedisConnectionOptions {
  readonly sentinels: readonly RedisNode[];
  /** The name the sentinels monitor the primary under. */
  readonly primaryName: string;
  readonly db?: number;
  readonly sentinelUsername?: string;
  readonly sentinelPassword?: string;
}

/** The store (the failover horizon around the Redis store) and its client (leases use it too). */
export interface RedisSentinelStore {
  readonly store: FailoverHorizonStore;
  readonly client: Redis;
}

export function createRedisSentinelStore(options: RedisSentinelStoreOptions): RedisSentinelStore {
  const client = new Redis(sentinelClientOptions(options));
  const store = new RedisBackedStore({
    name: "redis-sentinel",
    client,
    keyPrefix: options.keyPrefix,
    commandTimeoutMs: options.commandTimeoutMs,
    multiKeyDelete: true,
    ...(options.tagExpirySlackMs === undefined ? {} : { tagExpirySlackMs: options.tagExpirySlackMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const probe = redisPrimaryEpoch(client, {
    keyPrefix: options.keyPrefix,
    commandTimeoutMs: options.commandTimeoutMs,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const horizon = new FailoverHorizonStore(store, {
    probe,
    commandTimeoutMs: options.commandTimeoutMs,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return { store: horizon, client };
}

/** The ioredis options for a Sentinel-managed primary (pure: unit-tested without a server). */
export function sentinelClientOptions(options: RedisSentinelStoreOptions): RedisOptions {
  const reconnect = options.reconnect ?? DEFAULT_RECONNECT;
  const commandTimeout = clientCommandTimeoutMs(options.commandTimeoutMs);
  return {
    sentinels: options.sentinels.map((node) => ({ host: node.host, port: node.port })),
    name: options.primaryName,
    role: "master",
    db: options.db ?? 0,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.sentinelUsername === undefined ? {} : { sentinelUsername: options.sentinelUsername }),
    ...(options.sentinelPassword === undefined ? {} : { sentinelPassword: options.sentinelPassword }),
    // TLS to the data nodes (`tls` + enableTLSForSentinelMode) and to the sentinels (sentinelTLS).
    ...(options.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
    // Every sentinel unreachable: ask them again with the same backoff, forever.
    sentinelRetryStrategy: (attempt) => reconnectDelay(attempt, reconnect),
    sentinelCommandTimeout: commandTimeout,
    // Subscribe to the sentinels' +switch-master: leave a demoted primary as soon as it is announced.
    failoverDetector: true,
    // A dropped subscription (a sentinel restarted) comes back with the same backoff, not ioredis's
    // one minute: until then a failover goes unnoticed until Sentinel demotes the old primary.
    sentinelReconnectStrategy: (attempt) => reconnectDelay(attempt, reconnect),
    // A primary demoted while connected refuses writes with READONLY: reconnect (through the sentinels).
    reconnectOnError: (error) => (/^READONLY/.test(error.message) ? 1 : false),
    protocol: 2,
    connectionName: "apicache-sidecar",
    commandTimeout,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: [TAG_DRAIN_COMMAND],
    retryStrategy: (attempt) => reconnectDelay(attempt, reconnect),
  };
}
