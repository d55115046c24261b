import { randomUUID } from "node:crypto";
import { waitFor } from "@apicache/testkit/wait";
import type { Logger } from "pino";
import { describe, expect, it } from "vitest";
import { type Coordination, createRedisCoordination } from "../src/store/fill-lease.js";
import { fillLeaseKey } from "../src/store/lease-layout.js";
import type { RedisBackedStore } from "../src/store/redis-backed-store.js";
import { createRedisStore } from "../src/store/redis-store.js";
import { sharedRedis } from "./shared-redis.js";
import { captureLogs } from "./support/harness.js";

/**
 * Fill leases (ADR 0019) against a real Redis: what the pods' coordination does when Redis answers
 * late, drops the notification connection or restarts. The decisions themselves are unit-tested
 * with fakes (src/store/fill-lease.test.ts).
 */
const COMMAND_TIMEOUT_MS = 20; // lease commands get max(250 ms, 4 × this)
const LEASE_MS = 3_000;

const shared = sharedRedis();

interface Pod {
  readonly store: RedisBackedStore;
  readonly coordination: Coordination;
}

function pod(prefix: string, options: { user?: string; log?: Logger } = {}): Pod {
  const store = createRedisStore({
    node: { host: shared.server.host, port: shared.server.port },
    keyPrefix: prefix,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    reconnect: { baseMs: 20, maxMs: 100 },
    ...(options.user === undefined ? {} : { username: options.user, password: options.user }),
  });
  const coordination = createRedisCoordination({
    client: store.client,
    prefix,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    available: () => true,
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  return { store, coordination };
}

async function pods(prefix: string, count: number): Promise<Pod[]> {
  const started = Array.from({ length: count }, () => pod(prefix));
  await Promise.all(started.map((pod) => pod.store.ready()));
  // Subscribed: a lease can be asked for.
  for (const pod of started) await waitFor("notifications", () => ready(pod));
  return started;
}

async function ready(pod: Pod): Promise<boolean> {
  const attempt = await pod.coordination.fills.attempt(`probe-${randomUUID()}`, 1_000);
  if (attempt.kind === "taken") await attempt.release();
  return attempt.kind !== "unavailable";
}

async function stop(all: readonly Pod[]): Promise<void> {
  for (const pod of all) {
    await pod.coordination.close();
    await pod.store.close();
  }
}

describe("fill leases on a real Redis", () => {
  it("release a lease that Redis granted after the command's deadline, once the fill is done", async () => {
    const prefix = `lease-${randomUUID()}`;
    const [a, b] = (await pods(prefix, 2)) as [Pod, Pod];
    try {
      // Writes wait 600 ms: a's SET reaches Redis at once and runs after a has given up on it.
      await shared.admin.call("CLIENT", "PAUSE", "600", "WRITE");
      const late = await a.coordination.fills.attempt("GET /slow", LEASE_MS);
      expect(late.kind).toBe("unavailable");
      await waitFor("the late SET to take the lease", async () =>
        (await shared.admin.exists(fillLeaseKey(prefix, "GET /slow"))) === 1 ? true : undefined,
      );
      const held = await b.coordination.fills.attempt("GET /slow", LEASE_MS);
      expect(held.kind).toBe("held");
      const releasedAt = performance.now();
      // a filled locally; done, it releases the lease it turned out to hold.
      if (late.kind === "unavailable") await late.release?.();
      expect(held.kind === "held" && (await held.settled)).toBe("woken");
      expect(performance.now() - releasedAt).toBeLessThan(LEASE_MS / 2);
      expect(await shared.admin.exists(fillLeaseKey(prefix, "GET /slow"))).toBe(0);
    } finally {
      await stop([a, b]);
    }
  });

  it("wake the waiters when the notification connection drops, and ask for leases again once back", async () => {
    const prefix = `lease-${randomUUID()}`;
    const [a, b] = (await pods(prefix, 2)) as [Pod, Pod];
    try {
      const taken = await a.coordination.fills.attempt("GET /k", LEASE_MS);
      const held = await b.coordination.fills.attempt("GET /k", LEASE_MS);
      expect([taken.kind, held.kind]).toEqual(["taken", "held"]);
      const killedAt = performance.now();
      await shared.admin.call("CLIENT", "KILL", "TYPE", "pubsub");
      expect(held.kind === "held" && (await held.settled)).toBe("woken");
      expect(performance.now() - killedAt).toBeLessThan(LEASE_MS / 2);
      await waitFor("b subscribed again", () => ready(b));
      if (taken.kind === "taken") await taken.release();
    } finally {
      await stop([a, b]);
    }
  });

  it("wake the waiters when Redis restarts (its leases are gone), and work again once it is back", async () => {
    const prefix = `lease-${randomUUID()}`;
    const [a, b] = (await pods(prefix, 2)) as [Pod, Pod];
    try {
      await a.coordination.fills.attempt("GET /r", LEASE_MS);
      const held = await b.coordination.fills.attempt("GET /r", LEASE_MS);
      expect(held.kind).toBe("held");
      const restartedAt = performance.now();
      await shared.restart();
      expect(held.kind === "held" && (await held.settled)).toBe("woken");
      expect(performance.now() - restartedAt).toBeLessThan(LEASE_MS);
      await waitFor("a and b back", async () => (await ready(a)) && (await ready(b)), { timeoutMs: 15_000 });
    } finally {
      await stop([a, b]);
    }
  });

  it("say so when the Redis user may not use the notification channel (ACL), and fill locally", async () => {
    const prefix = `lease-${randomUUID()}`;
    const user = `u${randomUUID().slice(0, 8)}`;
    // Keys under the prefix, every command, no channel: Redis 7's default for a new ACL user.
    await shared.admin.call(
      "ACL",
      "SETUSER",
      user,
      "on",
      `>${user}`,
      `~${prefix}:*`,
      "+@all",
      "resetchannels",
    );
    const { lines, logger } = captureLogs();
    const limited = pod(prefix, { user, log: logger });
    try {
      await limited.store.ready();
      await waitFor("a warning", () =>
        lines.some((line) => line.level === "warn" && /ACL/.test(String(line.msg))),
      );
      expect((await limited.coordination.fills.attempt("GET /acl", LEASE_MS)).kind).toBe("unavailable");
    } finally {
      await stop([limited]);
      await shared.admin.call("ACL", "DELUSER", user);
    }
  });
});
