import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { type Coordination, createRedisCoordination } from "./fill-lease.js";

/** Just enough of a Redis (a map, PX, NX, pub/sub) for the coordination's decisions: fakes, not Redis. */
class FakeServer {
  readonly keys = new Map<string, { value: string; expiresAt: number }>();
  readonly subscribers = new Set<FakeClient>();
  /** A slow Redis: SETs run this much later (their reply with them). */
  setDelayMs = 0;
  /** Resolves when the last delayed SET ran. */
  landed: Promise<void> = Promise.resolve();

  live(key: string) {
    const entry = this.keys.get(key);
    if (entry && entry.expiresAt <= Date.now()) this.keys.delete(key);
    return this.keys.get(key);
  }
}

class FakeClient extends EventEmitter {
  status = "ready";
  constructor(readonly server: FakeServer) {
    super();
  }
  defineCommand() {}
  duplicate() {
    return new FakeClient(this.server);
  }
  async subscribe() {
    this.server.subscribers.add(this);
    return 1;
  }
  /** Only the form the coordination sends: SET key value PX ms NX. */
  async set(key: string, value: string, ...[, ms]: ["PX", number, "NX"]) {
    if (this.server.setDelayMs > 0) {
      const delay = new Promise<void>((resolve) => setTimeout(resolve, this.server.setDelayMs));
      this.server.landed = delay;
      await delay;
    }
    if (this.server.live(key)) return null;
    this.server.keys.set(key, { value, expiresAt: Date.now() + ms });
    return "OK";
  }
  async del(key: string) {
    return this.server.keys.delete(key) ? 1 : 0;
  }
  async pttl(key: string) {
    const entry = this.server.live(key);
    return entry ? entry.expiresAt - Date.now() : -2;
  }
  async apicacheLeaseRelease(key: string, token: string, channel: string, message: string) {
    const held = this.server.live(key)?.value === token;
    if (held) this.server.keys.delete(key);
    for (const subscriber of this.server.subscribers) subscriber.emit("message", channel, message);
    return held ? 1 : 0;
  }
  disconnect() {}
}

function pod(server: FakeServer, available = () => true) {
  const client = new FakeClient(server);
  const duplicate = client.duplicate.bind(client);
  let subscriber: FakeClient | undefined;
  client.duplicate = () => {
    subscriber = duplicate();
    return subscriber;
  };
  const coordination = createRedisCoordination({
    client: client as unknown as Redis,
    prefix: "p",
    commandTimeoutMs: 10,
    available,
  });
  const subscribe = async () => {
    subscriber?.emit("ready");
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { coordination, subscribe, subscriber: () => subscriber as FakeClient };
}

async function ready(server: FakeServer, available?: () => boolean) {
  const p = pod(server, available);
  await p.subscribe();
  return p;
}

describe("fill leases", () => {
  it("are not asked for until this pod hears releases", async () => {
    const { coordination, subscribe } = pod(new FakeServer());
    expect((await coordination.fills.attempt("k", 1_000)).kind).toBe("unavailable");
    await subscribe();
    expect((await coordination.fills.attempt("k", 1_000)).kind).toBe("taken");
  });

  it("are not asked for while the store's circuit is open", async () => {
    const { coordination } = await ready(new FakeServer(), () => false);
    expect((await coordination.fills.attempt("k", 1_000)).kind).toBe("unavailable");
  });

  describe("when another pod holds the key's lease", () => {
    it("wakes the waiter when the holder releases it, and frees the key", async () => {
      const server = new FakeServer();
      const [a, b] = [await ready(server), await ready(server)];
      const taken = await a.coordination.fills.attempt("k", 60_000);
      const held = await b.coordination.fills.attempt("k", 60_000);
      if (taken.kind !== "taken" || held.kind !== "held") throw new Error(`${taken.kind} ${held.kind}`);
      await taken.release();
      expect(await held.settled).toBe("woken");
      expect((await b.coordination.fills.attempt("k", 60_000)).kind).toBe("taken");
    });

    it("stops waiting when the lease ends without a release (a dead holder)", async () => {
      const server = new FakeServer();
      const [a, b] = [await ready(server), await ready(server)];
      expect((await a.coordination.fills.attempt("k", 30)).kind).toBe("taken");
      const held = await b.coordination.fills.attempt("k", 30);
      const started = performance.now();
      expect(held.kind === "held" && (await held.settled)).toBe("timed_out");
      // What was left of the lease (≤ 30 ms) plus the margin (the command timeout, 10 ms).
      expect(performance.now() - started).toBeLessThan(1_000);
    });

    it("still hears the release of a holder whose lease ran out first (its fill may land first)", async () => {
      const server = new FakeServer();
      const [a, b] = [await ready(server), await ready(server)];
      const taken = await a.coordination.fills.attempt("k", 30);
      const held = await b.coordination.fills.attempt("k", 30);
      if (taken.kind !== "taken" || held.kind !== "held") throw new Error(`${taken.kind} ${held.kind}`);
      expect(await held.settled).toBe("timed_out");
      await taken.release(); // the lease is gone: nothing to delete, but b still listens
      await held.released;
      held.cancel();
    });

    it("is not woken by another key's release", async () => {
      const server = new FakeServer();
      const [a, b] = [await ready(server), await ready(server)];
      const other = await a.coordination.fills.attempt("other", 60_000);
      await a.coordination.fills.attempt("k", 40);
      const held = await b.coordination.fills.attempt("k", 40);
      if (other.kind === "taken") await other.release();
      expect(held.kind === "held" && (await held.settled)).toBe("timed_out");
    });

    it("is woken when the lease was taken by a SET that answered after its deadline", async () => {
      const server = new FakeServer();
      const [a, b] = [await ready(server), await ready(server)];
      server.setDelayMs = 400; // beyond the lease command's deadline (250 ms)
      const late = await a.coordination.fills.attempt("k", 2_000);
      expect(late.kind).toBe("unavailable");
      await server.landed; // ...but Redis ran it: a's token holds the lease
      server.setDelayMs = 0;
      const held = await b.coordination.fills.attempt("k", 2_000);
      // a fills locally, as when Redis cannot be asked, and releases what it turned out to hold.
      if (late.kind === "unavailable") await late.release?.();
      expect(held.kind === "held" && (await held.settled)).toBe("woken");
    });

    it("wakes every waiter when the notifications are lost (they read the store and fetch)", async () => {
      const server = new FakeServer();
      const [a, b] = [await ready(server), await ready(server)];
      await a.coordination.fills.attempt("k", 60_000);
      const held = await b.coordination.fills.attempt("k", 60_000);
      b.subscriber().emit("close");
      expect(held.kind === "held" && (await held.settled)).toBe("woken");
      expect((await b.coordination.fills.attempt("k", 60_000)).kind).toBe("unavailable");
    });
  });
});

describe("claims (warming)", () => {
  it("go to the first pod to ask, for their time", async () => {
    const server = new FakeServer();
    const a: Coordination = (await ready(server)).coordination;
    const b: Coordination = (await ready(server)).coordination;
    expect(await a.claim("w", 60_000)).toBe("claimed");
    expect(await b.claim("w", 60_000)).toBe("taken");
    expect(await b.claim("w2", 60_000)).toBe("claimed");
  });

  it("can be given up, and then claimed by another pod", async () => {
    const server = new FakeServer();
    const a: Coordination = (await ready(server)).coordination;
    const b: Coordination = (await ready(server)).coordination;
    expect(await a.claim("w", 60_000)).toBe("claimed");
    await a.unclaim("w");
    expect(await b.claim("w", 60_000)).toBe("claimed");
  });
});
