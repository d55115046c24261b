import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { nextIoTurn } from "./io-turn.js";
import type { L1Coherence } from "./l1-coherence.js";
import { parseInvalidation } from "./l1-coherence.js";
import { type ReconnectOptions, reconnectDelay } from "./reconnect.js";
import { generationKey, keyInvalidationKey } from "./redis-layout.js";
import type { RedisNode } from "./redis-url.js";

/**
 * The I/O edge of L1 coherence (ADR 0018): one connection per Redis node (every master of a cluster)
 * that asks Redis to push every change of this policy's generations and key marks, and feeds the
 * pushes to L1Coherence (l1-coherence.ts).
 *
 * RESP2 (the data connections speak it, and so do proxies and managed services), so pushes travel by
 * pub/sub: on each (re)connection the connection takes its own id, turns on client tracking in
 * broadcast mode for the prefixes `<prefix>:g|` (generations) and `<prefix>:d|` (key invalidation
 * marks) redirected to itself — not entries `<prefix>:k|` (see l1-coherence.ts) — and
 * subscribes to `__redis__:invalidate`. Once every node's connection has subscribed the channel is
 * up; the moment any of them closes it is down (L1 flushed and bypassed) until that connection is
 * back and re-armed (ioredis reconnects with backoff; tracking and the subscription belong to the
 * connection, so both are redone). A cluster's masters are followed as ioredis discovers them: a new
 * master takes the channel down until its connection is armed; a master that left is dropped.
 *
 * A connection that dies without closing (a silent network partition: no FIN, no RST) would lose
 * pushes unnoticed, so each armed connection PINGs every `heartbeatMs`. Each answer renews L1's lease
 * (l1-coherence.ts `heard`: Redis answers in order, so every push queued before the PING has arrived;
 * the proof dates from when the PING was sent): a silent connection stops L1 from serving within
 * `leaseMs` of its last answered PING, without a flush. One whose oldest unanswered PING has waited
 * `silenceMs`, and still not once the event loop has read its sockets again, is dropped (down: L1
 * flushed, then reconnected and re-armed). A busy process runs its due timers before it reads the
 * answer already in the socket.
 *
 * Arming takes three round trips; a connection that closes meanwhile reconnects, and its 'ready' arms
 * the new one. An arming overtaken that way stops where it is (it neither marks the connection armed
 * nor counts as a refusal), and the connections do not resend unanswered commands after a reconnect
 * (`autoResendUnfulfilledCommands: false`): an old SUBSCRIBE resent ahead of the new arming would put
 * the new connection in subscriber mode before its tracking is on.
 */
export const INVALIDATION_CHANNEL = "__redis__:invalidate";

export interface InvalidationChannelOptions {
  readonly keyPrefix: string;
  readonly coherence: L1Coherence;
  /** Opens a connection to a node (auth, TLS, backoff as the data connections). */
  readonly connect: (node: RedisNode) => Redis;
  /** Standalone: the one node. Cluster: the data client, whose masters are followed. */
  readonly nodes: RedisNode | Cluster;
  /** PING period of armed connections, each answer renewing L1's lease (default 250 ms; 0: none). */
  readonly heartbeatMs?: number;
  /** A connection whose oldest unanswered PING is this old is dropped (default: heartbeatMs). */
  readonly silenceMs?: number;
  readonly logger?: Logger;
}

/**
 * The sidecar's heartbeat, lease and silence (ADR 0018, "A partition from Redis"): a PING every 250 ms
 * is answered within the next period on a healthy node, so the latest answered PING was sent at most
 * 250 ms + its round trip ago; a 600 ms lease leaves ~350 ms for a late timer or a busy loop before an
 * L1 hit is refused. The connection is dropped (L1 flushed) only after 1 s without an answer.
 */
export const DEFAULT_HEARTBEAT_MS = 250;
export const DEFAULT_LEASE_MS = 600;
export const DEFAULT_SILENCE_MS = 1_000;

/** The arguments of `CLIENT TRACKING` that arm a connection whose id is `id`. */
export function trackingArguments(keyPrefix: string, id: number | string): string[] {
  return [
    ...["TRACKING", "on", "REDIRECT", String(id), "BCAST"],
    ...["PREFIX", keyInvalidationKey(keyPrefix, ""), "PREFIX", generationKey(keyPrefix, "")],
  ];
}

/** Between attempts to arm a connection Redis refused to arm. */
const REARM_BACKOFF: ReconnectOptions = { baseMs: 1_000, maxMs: 60_000 };

interface NodeConnection {
  readonly client: Redis;
  armed: boolean;
  /** Bumped on every 'ready' and 'close': an arming started under another value was overtaken. */
  attempt: number;
  refusals?: number;
  heartbeat?: NodeJS.Timeout | undefined;
  /** Every push Redis queued before this time (coherence's clock) has been received. */
  heardAt: number;
}

export class InvalidationChannel {
  readonly #options: InvalidationChannelOptions;
  readonly #connections = new Map<string, NodeConnection>();
  #known = false;
  #closed = false;
  /** Stops following a cluster's masters (its listeners on the data client). */
  #unfollow: () => void = () => {};

  constructor(options: InvalidationChannelOptions) {
    this.#options = options;
    const nodes = options.nodes;
    if (isCluster(nodes)) {
      const follow = () => this.#follow(nodes);
      const events = ["refresh", "+node", "-node"] as const;
      for (const event of events) nodes.on(event, follow);
      this.#unfollow = () => {
        for (const event of events) nodes.off(event, follow);
      };
      follow();
    } else {
      this.#known = true;
      this.#open(nodes);
    }
  }

  /** Whether every node's connection is armed. */
  get up(): boolean {
    if (this.#closed || !this.#known || this.#connections.size === 0) return false;
    for (const connection of this.#connections.values()) if (!connection.armed) return false;
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unfollow();
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    for (const connection of connections) {
      clearInterval(connection.heartbeat);
      connection.client.disconnect();
    }
    this.#options.coherence.down({ lost: false });
  }

  #follow(cluster: Cluster): void {
    if (this.#closed) return;
    const masters = cluster.nodes("master").map((redis) => ({
      host: String(redis.options.host),
      port: Number(redis.options.port),
    }));
    if (masters.length === 0) return;
    this.#known = true;
    const wanted = new Set(masters.map(address));
    for (const [key, connection] of this.#connections) {
      if (wanted.has(key)) continue;
      this.#connections.delete(key);
      clearInterval(connection.heartbeat);
      connection.client.disconnect();
      this.#options.logger?.info(
        { node: key },
        "L1 invalidation: node left the cluster; its connection closed",
      );
    }
    for (const node of masters) if (!this.#connections.has(address(node))) this.#open(node);
    this.#report();
  }

  #open(node: RedisNode): void {
    const key = address(node);
    const client = this.#options.connect(node);
    const connection: NodeConnection = {
      client,
      armed: false,
      attempt: 0,
      heardAt: Number.NEGATIVE_INFINITY,
    };
    this.#connections.set(key, connection);
    client.on("ready", () => {
      this.#options.coherence.answered(); // Redis answered: an earlier loss no longer dates an outage
      void this.#arm(key, connection);
    });
    client.on("close", () => {
      connection.attempt++;
      const lost = connection.armed && !this.#closed && this.#connections.get(key) === connection;
      if (lost) {
        this.#options.logger?.warn(
          { node: key },
          "L1 invalidation connection lost; L1 is flushed and bypassed until it is back",
        );
      }
      connection.armed = false;
      clearInterval(connection.heartbeat);
      connection.heartbeat = undefined;
      this.#report(lost);
    });
    client.on("error", () => {
      // Reported through "close"; ioredis reconnects with backoff.
    });
    client.on("messageBuffer", (channel: Buffer, message: unknown) => {
      if (channel.toString() !== INVALIDATION_CHANNEL) return;
      const invalidation = parseInvalidation(this.#options.keyPrefix, message);
      if (invalidation !== undefined) this.#options.coherence.apply(invalidation);
    });
    this.#report();
  }

  /** On every (re)connection: take the id, track this prefix redirected to it, subscribe. */
  async #arm(key: string, connection: NodeConnection): Promise<void> {
    const { client } = connection;
    const attempt = ++connection.attempt;
    let subscribedAt = Number.NEGATIVE_INFINITY;
    const current = () =>
      connection.attempt === attempt &&
      this.#connections.get(key) === connection &&
      client.status === "ready";
    try {
      const id = (await client.client("ID")) as number;
      if (!current()) return;
      await client.call("CLIENT", ...trackingArguments(this.#options.keyPrefix, id));
      if (!current()) return;
      subscribedAt = this.#options.coherence.mark();
      await client.subscribe(INVALIDATION_CHANNEL);
    } catch (error) {
      // Lost with its connection (its "close" and the next "ready" take over), or refused by Redis.
      if (current()) this.#refused(key, connection, error);
      return;
    }
    if (!current()) return;
    connection.armed = true;
    connection.refusals = 0;
    connection.heardAt = subscribedAt; // its answer follows every push queued before it
    this.#options.logger?.info({ node: key }, "L1 invalidation connection armed");
    this.#watch(key, connection);
    this.#report();
  }

  /**
   * Redis refused to arm the connection (CLIENT TRACKING or SUBSCRIBE not allowed, Redis < 6, a proxy):
   * L1 stays bypassed. Retried on a fresh connection with a backoff up to a minute, said once.
   */
  #refused(key: string, connection: NodeConnection, error: unknown): void {
    this.#options.coherence.answered(); // Redis refused, so it answered: no outage to date
    connection.refusals = (connection.refusals ?? 0) + 1;
    if (connection.refusals === 1) {
      this.#options.logger?.warn(
        { node: key, err: (error as Error).message },
        "Redis refused to push invalidations (CLIENT TRACKING, SUBSCRIBE); L1 is not used until it accepts",
      );
    }
    connection.client.disconnect();
    const delay = reconnectDelay(connection.refusals, REARM_BACKOFF);
    setTimeout(() => {
      if (this.#closed || this.#connections.get(key) !== connection) return;
      connection.client.connect().catch(() => {
        // "close" and ioredis's own reconnects take it from here.
      });
    }, delay).unref();
  }

  /**
   * PINGs an armed connection every heartbeat; each answer renews the lease. One whose oldest
   * unanswered PING has waited `silenceMs` (counted in heartbeats) is dropped and reconnects.
   */
  #watch(key: string, connection: NodeConnection): void {
    const every = this.#options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    if (every <= 0) return;
    const silence = Math.max(1, Math.round((this.#options.silenceMs ?? every) / every));
    let tick = 0;
    /** The ticks of unanswered PINGs, oldest first (answers come in order). */
    const unanswered: number[] = [];
    clearInterval(connection.heartbeat);
    const heartbeat = setInterval(() => {
      tick++;
      const oldest = unanswered[0];
      if (oldest !== undefined && tick - oldest >= silence) {
        // Judged once the loop has read its sockets: the answer may be there, unread.
        void nextIoTurn().then(() => {
          if (unanswered[0] !== oldest || this.#closed || connection.heartbeat !== heartbeat) return;
          this.#options.logger?.warn(
            { node: key },
            "L1 invalidation connection stopped answering; reconnecting",
          );
          clearInterval(heartbeat);
          connection.client.disconnect(true);
        });
        return;
      }
      unanswered.push(tick);
      const sentAt = this.#options.coherence.mark();
      connection.client.ping().then(
        () => {
          unanswered.shift();
          if (connection.heartbeat !== heartbeat) return;
          connection.heardAt = sentAt;
          this.#heard();
        },
        () => {
          // Rejected: a dead connection (its "close" follows) or an error reply (Redis answered, in
          // order, but proved nothing new). Either way it is no longer unanswered.
          unanswered.shift();
        },
      );
    }, every);
    heartbeat.unref();
    connection.heartbeat = heartbeat;
  }

  /** Renews L1's lease up to what every node's connection has proved. */
  #heard(): void {
    if (!this.up) return;
    let heardAt = Number.POSITIVE_INFINITY;
    for (const connection of this.#connections.values()) heardAt = Math.min(heardAt, connection.heardAt);
    this.#options.coherence.heard(heardAt);
  }

  /** `lost`: an armed connection closed (or was dropped as silent) — it dates the outage. */
  #report(lost = false): void {
    if (this.#closed) return;
    if (this.up) {
      this.#options.coherence.up();
      this.#heard();
    } else this.#options.coherence.down({ lost });
  }
}

function isCluster(nodes: RedisNode | Cluster): nodes is Cluster {
  return typeof (nodes as Cluster).nodes === "function";
}

function address(node: RedisNode): string {
  return `${node.host}:${node.port}`;
}
