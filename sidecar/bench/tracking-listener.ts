/**
 * When Redis sent each change of a policy's entries and generations to every pod: pushes received by
 * a connection armed like the sidecars' invalidation channels, in its own process
 * (tracking-listener-child.ts), on the clock `epochNow` reads in every process.
 */
import type { PushedInvalidation } from "../src/store/l1-coherence.js";
import { spawnChild } from "./bench-children.js";

export interface Push {
  /** epochNow() when the push was handled. */
  readonly at: number;
  readonly invalidation: PushedInvalidation;
}

export interface TrackingListener {
  /** The first push received after `after` (epochNow) that `match` accepts; undefined if none within `timeoutMs`. */
  next(after: number, match: (push: Push) => boolean, timeoutMs: number): Promise<Push | undefined>;
}

/** Milliseconds since the epoch, sub-millisecond, comparable between processes of one machine. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

const KEEP = 4_096;

/** Starts the listener child (stopped with the other children, stopChildren). */
export async function listenForPushes(redisUrl: string, keyPrefix: string): Promise<TrackingListener> {
  const pushes: Push[] = [];
  const waiters = new Set<(push: Push) => void>();
  const onMessage = (message: unknown) => {
    const push = message as Push;
    if (typeof push.at !== "number") return;
    pushes.push(push);
    if (pushes.length > KEEP) pushes.splice(0, pushes.length - KEEP);
    for (const waiter of [...waiters]) waiter(push);
  };
  await spawnChild("tracking-listener-child.ts", [redisUrl, keyPrefix], { onMessage });
  return {
    next(after, match, timeoutMs) {
      const seen = pushes.find((push) => push.at > after && match(push));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          resolve(undefined);
        }, timeoutMs);
        const waiter = (push: Push) => {
          if (push.at <= after || !match(push)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve(push);
        };
        waiters.add(waiter);
      });
    },
  };
}
