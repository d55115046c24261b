import { type Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { DEFAULT_HEARTBEAT_MS, DEFAULT_SILENCE_MS, InvalidationChannel } from "./invalidation-channel.js";
import type { L1Coherence } from "./l1-coherence.js";
import { DEFAULT_RECONNECT, type ReconnectOptions, reconnectDelay } from "./reconnect.js";
import { sentinelClientOptions } from "./redis-sentinel-store.js";
import type { RedisNode, RedisTarget } from "./redis-url.js";

/**
 * Builds the invalidation channel for a Redis target (standalone, every master of a cluster, or the
 * primary Sentinel names): its connections authenticate, use TLS and back off like the data connections, speak RESP2, and are named `apicache-invalidation-<pid>` (so an
 * operator, or a test, can tell them apart in CLIENT LIST and cut one with CLIENT KILL).
 */
export interface ChannelFactoryOptions {
  readonly target: RedisTarget;
  readonly keyPrefix: string;
  readonly coherence: L1Coherence;
  /** The data client: a cluster's masters are followed through it. */
  readonly client: Redis | Cluster;
  readonly commandTimeoutMs: number;
  readonly reconnect?: ReconnectOptions;
  readonly logger?: Logger;
}

export const INVALIDATION_CONNECTION_NAME = `apicache-invalidation-${process.pid}`;

/** Sentinel: one connection to the primary the sentinels name, followed through failovers. */
const SENTINEL_PRIMARY: RedisNode = { host: "sentinel-primary", port: 0 };

export function createInvalidationChannel(options: ChannelFactoryOptions): InvalidationChannel {
  const { target } = options;
  const reconnect = options.reconnect ?? DEFAULT_RECONNECT;
  const liveness = { heartbeatMs: DEFAULT_HEARTBEAT_MS, silenceMs: DEFAULT_SILENCE_MS };
  const channelOptions = {
    connectionName: INVALIDATION_CONNECTION_NAME,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    enableAutoPipelining: false,
    // A PING in subscriber mode answers late under load: the heartbeat judges it, not a timeout.
    commandTimeout: undefined,
  } as const;
  if (target.kind === "sentinel") {
    const sentinelOptions = sentinelClientOptions({
      ...target,
      keyPrefix: options.keyPrefix,
      commandTimeoutMs: options.commandTimeoutMs,
      reconnect,
    });
    return new InvalidationChannel({
      keyPrefix: options.keyPrefix,
      coherence: options.coherence,
      // A failover drops the connection (the failover detector, or the demoted primary): re-armed on
      // the new primary.
      connect: () => new Redis({ ...sentinelOptions, ...channelOptions }),
      nodes: SENTINEL_PRIMARY,
      ...liveness,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }
  const connect = (node: RedisNode): Redis =>
    new Redis({
      host: node.host,
      port: node.port,
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
      ...(target.tls ? { tls: { servername: node.host } } : {}),
      protocol: 2,
      connectionName: INVALIDATION_CONNECTION_NAME,
      // Tracking and the subscription are redone on every connection, in order (invalidation-channel.ts).
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => reconnectDelay(attempt, reconnect),
    });
  return new InvalidationChannel({
    keyPrefix: options.keyPrefix,
    coherence: options.coherence,
    connect,
    nodes: target.kind === "cluster" ? (options.client as Cluster) : target.node,
    ...liveness,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}
