import { Cluster, type Redis, ReplyError } from "ioredis";
import type { Logger } from "pino";

/**
 * The subscription that hears fill-lease releases (ADR 0019): its own connection, a copy of the data
 * client's (a subscribed connection runs nothing else), subscribed by us on every `ready`, with every
 * rejection handled.
 *
 * We own the resubscription, not ioredis. A standalone or Sentinel copy is made with
 * `autoResubscribe: false`: ioredis would otherwise SUBSCRIBE again inside its `ready` handler and drop
 * the promise, and when that connection was closed on our side while its ready check was in flight
 * (the coordination closed, Sentinel's failover detector left the old primary) the SUBSCRIBE rejects
 * ("Stream isn't writeable", the offline queue being off) with no handler: an unhandled rejection,
 * which ends a Node process. A Cluster copy subscribes through ioredis's ClusterSubscriber, a
 * connection to one node that does not reconnect: when it ends, ioredis picks another node and
 * subscribes it again itself (every rejection caught); `redisOptions` do not reach it, and plain
 * PUBLISH reaches the subscribers of every node, so a slot move does not concern it.
 */
export interface FillNotificationsOptions {
  /** The data client: the subscriber is a copy of it. */
  readonly client: Redis | Cluster;
  readonly channel: string;
  /** A release was heard: its message names the key. */
  readonly onMessage: (message: string) => void;
  /** The subscription's connection closed: whatever waits on a release stops waiting. */
  readonly onLost: () => void;
  readonly log?: Logger | undefined;
}

export interface FillNotifications {
  /** Subscribed on the current connection: a release published now reaches this pod. */
  readonly subscribed: boolean;
  close(): void;
}

function subscriberConnection(client: Redis | Cluster): Redis | Cluster {
  return client instanceof Cluster ? client.duplicate() : client.duplicate({ autoResubscribe: false });
}

export function createFillNotifications(options: FillNotificationsOptions): FillNotifications {
  const { channel, log } = options;
  const subscriber = subscriberConnection(options.client);
  let subscribed = false;
  let closed = false;
  /** Bumped on every close: a SUBSCRIBE answered for an earlier connection proves nothing now. */
  let connection = 0;
  subscriber.on("ready", () => {
    if (closed) return;
    const current = connection;
    subscriber.subscribe(channel).then(
      () => {
        subscribed = !closed && current === connection;
      },
      (error: unknown) => {
        if (closed) return;
        if (current !== connection || subscriber.status !== "ready") return said(log, LOST, channel, error);
        if (error instanceof ReplyError) return said(log, REFUSED, channel, error);
        // Unanswered on a live connection (timed out): whether it subscribed is unknown. Start over.
        said(log, UNANSWERED, channel, error);
        subscriber.disconnect(true);
      },
    );
  });
  subscriber.on("close", () => {
    connection++;
    if (subscribed)
      log?.warn({ channel }, "fill notifications lost; misses fill locally until they are back");
    subscribed = false;
    options.onLost();
  });
  subscriber.on("error", () => undefined); // reported through "close"; ioredis reconnects with backoff
  subscriber.on("message", (_channel: string, message: string) => options.onMessage(message));
  return {
    get subscribed() {
      return subscribed;
    },
    close() {
      closed = true;
      subscribed = false;
      subscriber.disconnect();
    },
  };
}

/** What a failed SUBSCRIBE means, by how it failed; one stable message each. */
const REFUSED = {
  level: "warn",
  // Redis answered no: most often an ACL user without the channel. Said on every connection.
  msg:
    "fill notifications: SUBSCRIBE refused (a Redis ACL user needs the channel: &<prefix>:fills); " +
    "misses fill locally, without cross-pod coalescing",
} as const;
const UNANSWERED = {
  level: "warn",
  msg: "fill notifications: SUBSCRIBE unanswered; reconnecting to subscribe again",
} as const;
const LOST = {
  level: "debug",
  // Its connection went (or was going): the next connection's `ready` subscribes again.
  msg: "fill notifications: SUBSCRIBE lost with its connection; subscribed again once reconnected",
} as const;

function said(
  log: Logger | undefined,
  what: { readonly level: "warn" | "debug"; readonly msg: string },
  channel: string,
  error: unknown,
): void {
  log?.[what.level]({ err: error, channel }, what.msg);
}
