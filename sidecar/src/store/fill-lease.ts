import { randomBytes } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { slotTag } from "./cluster-slot.js";
import { withDeadline } from "./deadline.js";
import { createFillNotifications } from "./fill-notifications.js";
import { fillChannel, fillLeaseKey, leaseDecision, RELEASE_LUA } from "./lease-layout.js";

/**
 * Cross-pod leases over the Redis the store uses (ADR 0019; layout in lease-layout.ts). Never blocks
 * on Redis: a lease that cannot be asked for in one command deadline, a circuit that is open, or a
 * notification channel that is not subscribed makes the attempt "unavailable" (the caller fills
 * locally, as before leases existed), and a wait never outlasts the lease it waits on.
 */
export type LeaseAttempt =
  /** This pod fetches; `release` once stored (or once it knows nothing will be). */
  | { readonly kind: "taken"; release(): Promise<void> }
  /**
   * Another pod fetches: `settled` resolves when it released the lease, or when the wait ran out.
   * `released` still resolves on a release after that (a fill that outlived its lease), until `cancel`.
   */
  | {
      readonly kind: "held";
      readonly settled: Promise<"woken" | "timed_out">;
      readonly released: Promise<void>;
      cancel(): void;
    }
  /**
   * Redis could not be asked in time: this pod fetches. A `release` means the lease's SET was sent and
   * may still take the lease after its deadline: call it once done, as after "taken".
   */
  | { readonly kind: "unavailable"; release?(): Promise<void> };

export interface FillLeases {
  /**
   * Sends `SET NX` for the key's lease before it returns (a store read the caller issues right after
   * reaches Redis after it, on the same connection: the lease shares the entry's slot).
   */
  attempt(key: string, leaseMs: number): Promise<LeaseAttempt>;
}

/** Coordination between the replicas sharing a Redis: fill leases and one-off claims (warming). */
export interface Coordination {
  readonly fills: FillLeases;
  /** `SET key NX PX ttlMs`: "claimed" by this pod, "taken" by another, or "unavailable". */
  claim(key: string, ttlMs: number): Promise<"claimed" | "taken" | "unavailable">;
  /** Gives a claim of this pod's up (`DEL`); never rejects (unanswered, it expires by itself). */
  unclaim(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface RedisCoordinationOptions {
  readonly client: Redis | Cluster;
  readonly prefix: string;
  readonly commandTimeoutMs: number;
  /** False while the store's circuit is open: then nothing is asked of Redis. */
  readonly available: () => boolean;
  readonly log?: Logger;
}

const RELEASE_COMMAND = "apicacheLeaseRelease";
interface ReleaseCommand {
  apicacheLeaseRelease(key: string, token: string, channel: string, message: string): Promise<number>;
}

/** 72 random bits per process and a counter: a token no other holder ever had. */
const NONCE = randomBytes(9).toString("base64url");
let counter = 0;

class Waiters {
  readonly #byKey = new Map<string, Set<() => void>>();

  /**
   * Registered before the lease is asked for, so a release published meanwhile is not missed; heard
   * until cancelled, so a release after `until` gave up still resolves `released`.
   */
  register(key: string): {
    cancel(): void;
    until(ms: number): Promise<"woken" | "timed_out">;
    readonly released: Promise<void>;
  } {
    let woken = false;
    let done: ((how: "woken" | "timed_out") => void) | undefined;
    let onRelease: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      onRelease = resolve;
    });
    const wake = () => {
      woken = true;
      onRelease();
      done?.("woken");
    };
    const set = this.#byKey.get(key) ?? new Set();
    this.#byKey.set(key, set);
    set.add(wake);
    const cancel = () => {
      const current = this.#byKey.get(key);
      if (current?.delete(wake) && current.size === 0) this.#byKey.delete(key);
    };
    const until = (ms: number) =>
      new Promise<"woken" | "timed_out">((resolve) => {
        if (woken || ms <= 0) return resolve(woken ? "woken" : "timed_out");
        const timer = setTimeout(() => resolve("timed_out"), ms);
        done = (how) => {
          clearTimeout(timer);
          resolve(how);
        };
      });
    return { cancel, until, released };
  }

  wake(key: string): void {
    for (const wake of this.#byKey.get(key) ?? []) wake();
  }

  wakeAll(): void {
    for (const set of this.#byKey.values()) for (const wake of set) wake();
  }
}

/**
 * A lease command's deadline: a few store command timeouts (a lease precedes an upstream request
 * anyway, and a busy process answers late), at least LEASE_DEADLINE_FLOOR_MS.
 */
export const LEASE_DEADLINE_FLOOR_MS = 250;
export function leaseDeadlineMs(commandTimeoutMs: number): number {
  return Math.max(LEASE_DEADLINE_FLOOR_MS, commandTimeoutMs * 4);
}

/** How long a claim (warming, off the request path) waits for the first connection. */
const FIRST_CONNECTION_WAIT_MS = 5_000;

export function createRedisCoordination(options: RedisCoordinationOptions): Coordination {
  const { client, prefix, log } = options;
  const timeoutMs = leaseDeadlineMs(options.commandTimeoutMs);
  const connected =
    client.status === "ready"
      ? Promise.resolve()
      : new Promise<void>((resolve) => client.once("ready", resolve));
  const channel = fillChannel(prefix);
  const waiters = new Waiters();
  slotTag(0); // builds the slot table now, not during the first miss (tens of ms on a busy node)
  client.defineCommand(RELEASE_COMMAND, { numberOfKeys: 1, lua: RELEASE_LUA });
  const notifications = createFillNotifications({
    client,
    channel,
    onMessage: (key) => waiters.wake(key),
    onLost: () => waiters.wakeAll(),
    log,
  });
  const deadline = <T>(work: Promise<T>) =>
    withDeadline(work, timeoutMs, () => new Error(`lease command timed out after ${timeoutMs} ms`));

  const fills: FillLeases = {
    async attempt(key, leaseMs) {
      if (!notifications.subscribed || !options.available()) return { kind: "unavailable" };
      const lease = fillLeaseKey(prefix, key);
      const waiter = waiters.register(key);
      const token = `${NONCE}.${(++counter).toString(36)}`;
      const setting = client.set(lease, token, "PX", leaseMs, "NX");
      const release = async () => {
        try {
          await deadline(
            (client as unknown as ReleaseCommand).apicacheLeaseRelease(lease, token, channel, key),
          );
        } catch (error) {
          log?.debug({ err: error, key }, "fill lease release failed; it expires by itself");
        }
      };
      let reply: [string | null, number];
      try {
        reply = await deadline(Promise.all([setting, client.pttl(lease)]));
      } catch (error) {
        waiter.cancel();
        log?.debug({ err: error, key }, "fill lease unavailable; filling locally");
        // A SET that reaches Redis after its deadline may still take the lease: released once this
        // pod's fill is done, or other pods would wait for it until it expires.
        const late = () =>
          setting.then(
            (reply) => (reply === "OK" ? release() : undefined),
            () => undefined,
          );
        return { kind: "unavailable", release: late };
      }
      // The holder's release reaches this pod within a store command's time of the lease's end.
      const decision = leaseDecision(reply[0], reply[1], leaseMs, options.commandTimeoutMs);
      if (decision.kind === "wait") {
        const { released, cancel } = waiter;
        return { kind: "held", settled: waiter.until(decision.waitMs), released, cancel };
      }
      waiter.cancel();
      return { kind: "taken", release };
    },
  };

  return {
    fills,
    async claim(key, ttlMs) {
      if (!options.available()) return "unavailable";
      try {
        await withDeadline(connected, FIRST_CONNECTION_WAIT_MS, () => new Error("Redis not connected"));
        const reply = await deadline(client.set(key, NONCE, "PX", Math.max(1, Math.ceil(ttlMs)), "NX"));
        return reply === "OK" ? "claimed" : "taken";
      } catch {
        return "unavailable";
      }
    },
    async unclaim(key) {
      if (!options.available()) return;
      await deadline(client.del(key)).catch(() => undefined);
    },
    async close() {
      notifications.close();
      waiters.wakeAll();
    },
  };
}
