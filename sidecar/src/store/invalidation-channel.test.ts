import { EventEmitter } from "node:events";
import type { Cluster, Redis } from "ioredis";
import { describe, expect, it, vi } from "vitest";
import { INVALIDATION_CHANNEL, InvalidationChannel, trackingArguments } from "./invalidation-channel.js";
import { nextIoTurn } from "./io-turn.js";
import { L1Coherence } from "./l1-coherence.js";
import { MemoryStore } from "./memory-store.js";
import type { RedisNode } from "./redis-url.js";

/** A connection as the channel uses it: commands recorded, events emitted by the test. */
class FakeConnection extends EventEmitter {
  readonly commands: string[][] = [];
  status = "connecting";
  id = 7;
  refuseTracking = false;
  disconnects = 0;

  constructor(readonly node: RedisNode) {
    super();
  }

  /** When set, the next CLIENT ID is answered only when the test calls the function it receives. */
  holdId?: (answer: (error?: Error) => void) => void;

  async client(sub: string): Promise<number> {
    this.commands.push(["CLIENT", sub]);
    const hold = this.holdId;
    this.holdId = undefined;
    if (hold)
      await new Promise<void>((resolve, reject) => hold((error) => (error ? reject(error) : resolve())));
    return this.id;
  }

  async call(...args: string[]): Promise<string> {
    this.commands.push(args);
    if (this.refuseTracking) throw new Error("NOPERM");
    return "OK";
  }

  async subscribe(channel: string): Promise<number> {
    this.commands.push(["SUBSCRIBE", channel]);
    return 1;
  }

  pings = 0;
  answerPings = true;

  /** PINGs sent while answerPings was false, answered (in order) by answerHeld. */
  readonly heldPings: (() => void)[] = [];

  /** How many of the next PINGs Redis rejects with an error (the connection stays up). */
  rejectPings = 0;

  ping(): Promise<string> {
    this.pings++;
    if (this.rejectPings > 0) {
      this.rejectPings--;
      return Promise.reject(new Error("BUSY Redis is busy running a script"));
    }
    if (this.answerPings) return Promise.resolve("PONG");
    return new Promise((resolve) => this.heldPings.push(() => resolve("PONG")));
  }

  answerHeld(): void {
    for (const answer of this.heldPings.splice(0)) answer();
  }

  connects = 0;

  disconnect(): void {
    this.disconnects++;
    this.status = "end";
  }

  async connect(): Promise<void> {
    this.connects++;
  }

  connectAndArm(id = this.id): Promise<void> {
    this.id = id;
    this.status = "ready";
    this.emit("ready");
    return new Promise((resolve) => setImmediate(resolve));
  }

  lose(): void {
    this.status = "reconnecting";
    this.emit("close");
  }

  push(keys: string[] | null): void {
    this.emit(
      "messageBuffer",
      Buffer.from(INVALIDATION_CHANNEL),
      keys?.map((key) => Buffer.from(key)) ?? null,
    );
  }
}

function setup(
  nodes: RedisNode | Cluster,
  heartbeatMs = 0,
  lease: { silenceMs?: number; leaseMs?: number; now?: () => number } = {},
) {
  const l1 = new MemoryStore({ maxBytes: 1 << 20 });
  const coherence = new L1Coherence({
    target: l1,
    ...(lease.leaseMs === undefined ? {} : { leaseMs: lease.leaseMs }),
    ...(lease.now === undefined ? {} : { now: lease.now }),
  });
  const connections: FakeConnection[] = [];
  const channel = new InvalidationChannel({
    keyPrefix: "p",
    coherence,
    nodes,
    heartbeatMs,
    ...(lease.silenceMs === undefined ? {} : { silenceMs: lease.silenceMs }),
    connect: (node) => {
      const connection = new FakeConnection(node);
      connections.push(connection);
      return connection as unknown as Redis;
    },
  });
  return { l1, coherence, connections, channel };
}

/** A cluster client as the channel follows it: masters, and the events that change them. */
class FakeCluster extends EventEmitter {
  masters: RedisNode[];

  constructor(masters: RedisNode[]) {
    super();
    this.masters = masters;
  }

  nodes(): { options: RedisNode }[] {
    return this.masters.map((node) => ({ options: node }));
  }
}

describe("invalidation channel", () => {
  describe("on standalone Redis", () => {
    it("arms its connection on connect: own id, tracking redirected to it, then the subscription", async () => {
      const { connections, coherence } = setup({ host: "h", port: 1 });
      const [connection] = connections as [FakeConnection];
      expect(coherence.serving).toBe(false);
      await connection.connectAndArm(42);
      expect(connection.commands).toEqual([
        ["CLIENT", "ID"],
        ["CLIENT", ...trackingArguments("p", 42)],
        ["SUBSCRIBE", INVALIDATION_CHANNEL],
      ]);
      expect(trackingArguments("p", 42)).toEqual([
        ...["TRACKING", "on", "REDIRECT", "42", "BCAST", "PREFIX", "p:d|", "PREFIX", "p:g|"],
      ]);
      expect(coherence.serving).toBe(true);
    });

    it("applies what Redis pushes to L1", async () => {
      const { connections, l1 } = setup({ host: "h", port: 1 });
      const [connection] = connections as [FakeConnection];
      await connection.connectAndArm();
      l1.put("a", Buffer.from("1"), { ttlMs: 60_000, tags: ["t"] });
      l1.put("b", Buffer.from("1"), { ttlMs: 60_000, tags: [] });
      connection.push(["p:g|t"]);
      expect(l1.lookup("a")).toBeUndefined();
      expect(l1.lookup("b")).toBeDefined();
      connection.push(null);
      expect(l1.entries).toBe(0);
    });

    it("is down from a lost connection until it has reconnected and re-armed with its new id", async () => {
      const { connections, coherence } = setup({ host: "h", port: 1 });
      const [connection] = connections as [FakeConnection];
      await connection.connectAndArm(1);
      connection.lose();
      expect(coherence.serving).toBe(false);
      connection.commands.length = 0;
      await connection.connectAndArm(2);
      expect(connection.commands[1]).toEqual(["CLIENT", ...trackingArguments("p", 2)]);
      expect(coherence.serving).toBe(true);
    });

    it("lets an arming overtaken by a reconnect stop quietly: no refusal, the new one arms", async () => {
      const { connections, coherence } = setup({ host: "h", port: 1 });
      const [connection] = connections as [FakeConnection];
      let answerOld: (error?: Error) => void = () => {};
      connection.holdId = (answer) => {
        answerOld = answer;
      };
      await connection.connectAndArm(1);
      connection.lose(); // while its CLIENT ID is unanswered
      await connection.connectAndArm(2);
      expect(coherence.serving).toBe(true);
      answerOld(new Error("Connection is closed."));
      await new Promise((resolve) => setImmediate(resolve));
      expect([coherence.serving, connection.disconnects]).toEqual([true, 0]);
    });

    it("drops an armed connection that stops answering its heartbeat", async () => {
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      try {
        const { connections, coherence } = setup({ host: "h", port: 1 }, 1_000);
        const [connection] = connections as [FakeConnection];
        await connection.connectAndArm();
        await vi.advanceTimersByTimeAsync(2_000);
        expect([connection.pings, connection.disconnects]).toEqual([2, 0]);
        connection.answerPings = false;
        await vi.advanceTimersByTimeAsync(2_000);
        // Judged once the event loop has read its sockets again (the answer may be there, unread).
        expect(connection.disconnects).toBe(0);
        await nextIoTurn();
        expect(connection.disconnects).toBe(1);
        connection.lose();
        expect(coherence.serving).toBe(false);
      } finally {
        vi.useRealTimers();
      }
    });

    it("renews L1's lease with every answered PING (from when it was sent); a silent one lets it lapse, unflushed", async () => {
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      let time = 0;
      try {
        const { connections, coherence, l1 } = setup({ host: "h", port: 1 }, 250, {
          silenceMs: 1_000,
          leaseMs: 600,
          now: () => time,
        });
        const [connection] = connections as [FakeConnection];
        await connection.connectAndArm();
        const advance = async (ms: number) => {
          time += ms;
          await vi.advanceTimersByTimeAsync(ms);
        };
        await advance(500); // PINGs sent at 250 and 500, answered
        l1.put("a", Buffer.from("1"), { ttlMs: 60_000, tags: [] });
        expect([coherence.serving, coherence.lapsed]).toEqual([true, false]);
        connection.answerPings = false; // a silent partition: PINGs at 750, 1000, … never answered
        await advance(500);
        expect(coherence.serving).toBe(true); // 1000 - 500 ≤ 600
        await advance(250); // 1250: the last answered PING was sent at 500
        expect([coherence.serving, coherence.lapsed, l1.entries]).toEqual([false, true, 1]);
        expect(connection.disconnects).toBe(0); // not yet silent for 1 s: not dropped, L1 kept
        connection.answerHeld(); // late answers to PINGs sent at 750, 1000 and 1250
        await nextIoTurn();
        expect([coherence.serving, l1.entries]).toEqual([true, 1]);
      } finally {
        vi.useRealTimers();
      }
    });

    it("drops a connection only once its oldest unanswered PING waited silenceMs", async () => {
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      try {
        const { connections } = setup({ host: "h", port: 1 }, 250, { silenceMs: 1_000, leaseMs: 600 });
        const [connection] = connections as [FakeConnection];
        await connection.connectAndArm();
        connection.answerPings = false;
        await vi.advanceTimersByTimeAsync(1_000); // PINGs at 250, 500, 750, 1000
        await nextIoTurn();
        expect([connection.pings, connection.disconnects]).toEqual([4, 0]);
        await vi.advanceTimersByTimeAsync(250); // 1250: the PING of 250 waited 1 s
        await nextIoTurn();
        expect(connection.disconnects).toBe(1);
      } finally {
        vi.useRealTimers();
      }
    });

    it("counts a PING rejected with an error as answered: silence is judged from the next one", async () => {
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      try {
        const { connections } = setup({ host: "h", port: 1 }, 1_000, { silenceMs: 2_000 });
        const [connection] = connections as [FakeConnection];
        await connection.connectAndArm();
        connection.rejectPings = 1;
        await vi.advanceTimersByTimeAsync(1_000); // tick 1: rejected
        connection.answerPings = false;
        await vi.advanceTimersByTimeAsync(2_000); // ticks 2, 3: the oldest unanswered (tick 2) waited 1
        await nextIoTurn();
        expect(connection.disconnects).toBe(0);
        await vi.advanceTimersByTimeAsync(1_000); // tick 4: it waited 2 heartbeats, silenceMs
        await nextIoTurn();
        expect(connection.disconnects).toBe(1);
      } finally {
        vi.useRealTimers();
      }
    });

    it("stays down when Redis refuses tracking, and tries a fresh connection after a backoff", async () => {
      vi.useFakeTimers({ toFake: ["setTimeout"] });
      try {
        const { connections, coherence } = setup({ host: "h", port: 1 });
        const [connection] = connections as [FakeConnection];
        connection.refuseTracking = true;
        await connection.connectAndArm();
        expect(coherence.serving).toBe(false);
        expect([connection.disconnects, connection.connects]).toEqual([1, 0]);
        await vi.advanceTimersByTimeAsync(2_500);
        expect(connection.connects).toBe(1);
        connection.refuseTracking = false;
        await connection.connectAndArm();
        expect(coherence.serving).toBe(true);
      } finally {
        vi.useRealTimers();
      }
    });

    it("dates the outage (downSince) only from the loss of an armed connection, never from before arming or a refusal", async () => {
      vi.useFakeTimers({ toFake: ["setTimeout"] });
      try {
        let time = 1_000;
        const { connections, coherence } = setup({ host: "h", port: 1 }, 0, { now: () => time });
        const [connection] = connections as [FakeConnection];
        expect(coherence.downSince).toBeUndefined(); // never armed: Redis may be answering
        await connection.connectAndArm(1);
        time = 2_000;
        connection.lose();
        expect(coherence.downSince).toBe(2_000); // an armed connection lost: the outage began by now
        time = 9_000;
        connection.refuseTracking = true;
        await connection.connectAndArm(2);
        expect(coherence.downSince).toBeUndefined(); // Redis answered after 2 000: not the same outage
      } finally {
        vi.useRealTimers();
      }
    });

    it("goes down for good when closed", async () => {
      const { connections, coherence, channel } = setup({ host: "h", port: 1 });
      await (connections[0] as FakeConnection).connectAndArm();
      await channel.close();
      expect(coherence.serving).toBe(false);
      expect(channel.up).toBe(false);
    });
  });

  describe("on a Redis Cluster", () => {
    const masters = [1, 2, 3].map((port) => ({ host: "h", port }));

    it("is up only once every master's connection is armed", async () => {
      const { connections, coherence } = setup(new FakeCluster(masters) as unknown as Cluster);
      expect(connections.map((connection) => connection.node.port)).toEqual([1, 2, 3]);
      await (connections[0] as FakeConnection).connectAndArm();
      await (connections[1] as FakeConnection).connectAndArm();
      expect(coherence.serving).toBe(false);
      await (connections[2] as FakeConnection).connectAndArm();
      expect(coherence.serving).toBe(true);
      (connections[1] as FakeConnection).lose();
      expect(coherence.serving).toBe(false);
    });

    it("follows the masters: a new one takes the channel down until armed, one that left is closed", async () => {
      const cluster = new FakeCluster(masters);
      const { connections, coherence } = setup(cluster as unknown as Cluster);
      for (const connection of connections) await connection.connectAndArm();
      expect(coherence.serving).toBe(true);
      cluster.masters = [masters[0], masters[2], { host: "h", port: 4 }] as RedisNode[];
      cluster.emit("refresh");
      expect((connections[1] as FakeConnection).disconnects).toBe(1);
      expect(connections.map((connection) => connection.node.port)).toEqual([1, 2, 3, 4]);
      expect(coherence.serving).toBe(false);
      await (connections[3] as FakeConnection).connectAndArm();
      expect(coherence.serving).toBe(true);
    });

    it("stops following the cluster's masters when closed", async () => {
      const cluster = new FakeCluster(masters);
      const { channel } = setup(cluster as unknown as Cluster);
      expect(cluster.listenerCount("refresh")).toBe(1);
      await channel.close();
      expect(["refresh", "+node", "-node"].map((event) => cluster.listenerCount(event))).toEqual([0, 0, 0]);
    });
  });
});
