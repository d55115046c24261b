import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { LeaderElector } from "./leader-elector.js";
import { type LeaseClient, LeaseConflictError, type LeaseRecord, LeaseRefusedError } from "./lease.js";

/** A promise settled from outside: lets a test hold a lease call in flight. */
function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

type Step = "get" | "create:before-send" | "create:after-send";

/**
 * An in-memory Lease with resourceVersion and uid checks, like the API server's (an update names the
 * uid, so it never creates).
 * `refused` is an owner that is gone: a missing lease may not be created. `hold(step)` stops the next
 * call at that step until released.
 */
class FakeLeases implements LeaseClient {
  record: LeaseRecord | undefined;
  private version = 0;
  failing = false;
  refused = false;
  /** Every call waits forever (a network partition); the signals it got are kept. */
  hanging = false;
  readonly signals: (AbortSignal | undefined)[] = [];
  writes = 0;
  private held = new Map<
    Step,
    { reached: ReturnType<typeof deferred>; release: ReturnType<typeof deferred> }
  >();

  holder(): string | undefined {
    return this.record?.holderIdentity;
  }

  hold(step: Step) {
    const gate = { reached: deferred(), release: deferred() };
    this.held.set(step, gate);
    return { reached: gate.reached.promise, release: gate.release.resolve };
  }

  private async pass(step: Step) {
    const gate = this.held.get(step);
    if (!gate) return;
    this.held.delete(step);
    gate.reached.resolve();
    await gate.release.promise;
  }

  private async hang(signal: AbortSignal | undefined) {
    this.signals.push(signal);
    if (this.hanging) await new Promise(() => undefined);
  }

  async get(signal?: AbortSignal) {
    await this.hang(signal);
    await this.pass("get");
    if (this.failing) throw new Error("unavailable");
    if (!this.record && this.refused) throw new LeaseRefusedError();
    return this.record;
  }

  async create(record: LeaseRecord, signal?: AbortSignal) {
    await this.hang(signal);
    await this.pass("create:before-send");
    signal?.throwIfAborted();
    if (this.failing) throw new Error("unavailable");
    if (this.refused) throw new LeaseRefusedError();
    if (this.record) throw new LeaseConflictError();
    this.writes += 1;
    this.record = { ...record, resourceVersion: String(++this.version), uid: `uid-${this.version}` };
    const created = this.record;
    await this.pass("create:after-send");
    return created;
  }

  async update(record: LeaseRecord, signal?: AbortSignal) {
    await this.hang(signal);
    signal?.throwIfAborted();
    if (this.failing) throw new Error("unavailable");
    const { resourceVersion, uid } = this.record ?? {};
    if (!this.record || record.resourceVersion !== resourceVersion || record.uid !== uid)
      throw new LeaseConflictError();
    this.writes += 1;
    this.record = { ...record, resourceVersion: String(++this.version) };
    return this.record;
  }
}

/** Lets promise callbacks queued by now run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

function options(identity: string, client: LeaseClient, clock: FakeClock, events: string[]) {
  return {
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    client,
    onStartedLeading: () => {
      events.push("started");
    },
    onStoppedLeading: () => events.push("stopped"),
    random: () => 0,
  };
}

function candidate(identity: string, leases: LeaseClient, clock: FakeClock) {
  const events: string[] = [];
  const elector = new LeaderElector({
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    client: leases,
    onStartedLeading: () => {
      events.push("started");
    },
    onStoppedLeading: () => events.push("stopped"),
    random: () => 0,
  });
  return { elector, events };
}

describe("leader election", () => {
  it("acquires a missing lease and renews it", async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new FakeLeases();
    const a = candidate("a", leases, clock);
    await a.elector.tick();
    expect(a.elector.state).toBe("leader");
    expect(leases.record).toMatchObject({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    clock.advance(2_000);
    await a.elector.tick();
    expect(leases.record?.renewTime?.getTime()).toBe(1_002_000);
    expect(a.events).toEqual(["started"]);
  });

  it("lets a follower take over only after leaseDuration without renewal, on its own clock", async () => {
    const clock = new FakeClock(0);
    const leases = new FakeLeases();
    const a = candidate("a", leases, clock);
    const b = candidate("b", leases, clock);
    await a.elector.tick();
    await b.elector.tick();
    expect(b.elector.state).toBe("follower");
    clock.advance(14_999);
    await b.elector.tick();
    expect(b.elector.state).toBe("follower");
    clock.advance(1);
    await b.elector.tick();
    expect(b.elector.state).toBe("leader");
    expect(leases.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
  });

  it("the old leader steps down when it sees another holder", async () => {
    const clock = new FakeClock(0);
    const leases = new FakeLeases();
    const a = candidate("a", leases, clock);
    const b = candidate("b", leases, clock);
    await a.elector.tick();
    await b.elector.tick();
    clock.advance(15_000);
    await b.elector.tick();
    await a.elector.tick();
    expect(a.events).toEqual(["started", "stopped"]);
    expect(a.elector.state).toBe("stopped");
  });

  it("gives up leadership once no renewal succeeded for renewDeadline", async () => {
    const clock = new FakeClock(0);
    const leases = new FakeLeases();
    const a = candidate("a", leases, clock);
    await a.elector.tick();
    leases.failing = true;
    clock.advance(9_999);
    await a.elector.tick();
    expect(a.elector.state).toBe("leader");
    clock.advance(1);
    await a.elector.tick();
    await flush();
    expect(a.events).toEqual(["started", "stopped"]);
  });

  describe("when a renewal hangs (a partitioned leader)", () => {
    it("steps down, stopping what it leads, at renewDeadline: before another replica may acquire", async () => {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      const events: string[] = [];
      const a = new LeaderElector({
        ...options("a", leases, clock, events),
        stopLeading: () => {
          events.push(`controller stopped at ${clock.now()}`);
        },
      });
      await a.tick();
      clock.advance(2_000);
      leases.hanging = true;
      const round = a.tick(); // never answered by the client
      clock.advance(8_000);
      await round;
      await flush();
      expect(a.state).toBe("stopped");
      expect(events).toEqual(["started", "controller stopped at 10000", "stopped"]);
      expect(clock.now()).toBeLessThan(15_000);
    });

    it("bounds an acquisition attempt by renewDeadline too", async () => {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      leases.hanging = true;
      const a = candidate("a", leases, clock);
      const round = a.elector.tick();
      clock.advance(10_000);
      await round;
      expect(a.elector.state).toBe("follower");
      expect(leases.signals.every((signal) => signal?.aborted)).toBe(true);
    });
  });

  it("stops what it leads before it releases the lease", async () => {
    const clock = new FakeClock(0);
    const leases = new FakeLeases();
    const events: string[] = [];
    const a = new LeaderElector({
      ...options("a", leases, clock, events),
      stopLeading: async () => {
        await flush();
        events.push(`controller stopped, holder ${leases.holder()}`);
      },
    });
    await a.tick();
    await a.stop();
    expect(events).toEqual(["started", "controller stopped, holder a"]);
    expect(leases.holder()).toBe("");
  });

  describe("the term's signal (what fences the controller's writes)", () => {
    function fenced(leases: FakeLeases, clock: FakeClock, events: string[]) {
      let term: AbortSignal | undefined;
      const elector = new LeaderElector({
        ...options("a", leases, clock, events),
        onStartedLeading: (signal) => {
          term = signal;
        },
        stopLeading: () => {
          events.push(`stopping, term aborted: ${term?.aborted}`);
        },
      });
      return { elector, term: () => term };
    }

    it("is aborted before stopLeading when a renewal hangs past renewDeadline", async () => {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      const events: string[] = [];
      const a = fenced(leases, clock, events);
      await a.elector.tick();
      leases.hanging = true;
      const round = a.elector.tick();
      clock.advance(10_000);
      await round;
      await flush();
      expect(events).toEqual(["stopping, term aborted: true", "stopped"]);
    });

    it("stays open while stopLeading runs on a graceful stop (work in flight finishes), then aborts", async () => {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      const events: string[] = [];
      const a = fenced(leases, clock, events);
      await a.elector.tick();
      await a.elector.stop();
      expect(events).toEqual(["stopping, term aborted: false"]);
      expect(a.term()?.aborted).toBe(true);
    });
  });

  describe("when leading cannot start", () => {
    it("gives the lease up (stops, then releases), reports it, and leads again later", async () => {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      const events: string[] = [];
      let attempts = 0;
      const a = new LeaderElector({
        ...options("a", leases, clock, events),
        onStartedLeading: async () => {
          attempts += 1;
          if (attempts === 1) throw new Error("apply failed");
          events.push("started");
        },
        stopLeading: () => {
          events.push(`stopped leading, holder ${leases.holder()}`);
        },
        onStartFailed: (error) => events.push(`${error.name}: ${error.message}`),
      });
      await a.tick();
      await flush();
      expect(a.state).toBe("follower");
      expect(a.isLeader).toBe(false);
      expect(events).toEqual([
        "LeaderStartError: leading could not start: apply failed",
        "stopped leading, holder a",
      ]);
      expect(leases.holder()).toBe("");
      clock.advance(2_000);
      await a.tick();
      await flush();
      expect(a.state).toBe("leader");
      expect(events.at(-1)).toBe("started");
    });

    it("gives the lease up when the start step does not finish within startDeadlineMs", async () => {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      const events: string[] = [];
      const a = new LeaderElector({
        ...options("a", leases, clock, events),
        startDeadlineMs: 30_000,
        onStartedLeading: () => new Promise<void>(() => undefined), // informers never sync
        onStartFailed: (error) => events.push(error.message),
      });
      await a.tick();
      for (let t = 0; t < 15; t++) {
        clock.advance(2_000);
        await a.tick();
      }
      await flush();
      expect(events).toEqual(["leading did not start within 30000 ms"]);
      expect(a.state).toBe("follower");
      expect(leases.holder()).toBe("");
    });
  });

  it("lets exactly one of two simultaneous candidates win (optimistic concurrency)", async () => {
    const clock = new FakeClock(0);
    const leases = new FakeLeases();
    leases.record = {
      holderIdentity: "",
      leaseDurationSeconds: 15,
      leaseTransitions: 3,
      resourceVersion: "0",
    };
    const a = candidate("a", leases, clock);
    const b = candidate("b", leases, clock);
    await Promise.all([a.elector.tick(), b.elector.tick()]);
    expect([a.elector.state, b.elector.state].sort()).toEqual(["follower", "leader"]);
  });

  it("releases the lease on a graceful stop so a follower takes over at once", async () => {
    const clock = new FakeClock(0);
    const leases = new FakeLeases();
    const a = candidate("a", leases, clock);
    const b = candidate("b", leases, clock);
    await a.elector.tick();
    await b.elector.tick();
    await a.elector.stop();
    await b.elector.tick();
    expect(b.elector.state).toBe("leader");
  });

  it("does not re-create a lease deleted under a live holder before that holder could", async () => {
    const clock = new FakeClock(0);
    const leases = new FakeLeases();
    const a = candidate("a", leases, clock);
    const b = candidate("b", leases, clock);
    await a.elector.tick();
    await b.elector.tick();
    leases.record = undefined;
    clock.advance(2_000);
    await b.elector.tick();
    expect(leases.record).toBeUndefined();
    await a.elector.tick();
    expect(leases.holder()).toBe("a");
    expect([a.elector.state, b.elector.state]).toEqual(["leader", "follower"]);
  });

  describe("stop()", () => {
    it("waits for a round in flight, which writes nothing once stopped", async () => {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      const a = candidate("a", leases, clock);
      const read = leases.hold("get");
      const round = a.elector.tick();
      await read.reached;
      let stopped = false;
      const stopping = a.elector.stop().then(() => (stopped = true));
      await Promise.resolve();
      expect(stopped).toBe(false);
      read.release();
      await Promise.all([round, stopping]);
      expect(leases.record).toBeUndefined();
      expect(leases.writes).toBe(0);
      expect(a.events).toEqual([]);
    });

    it("does not send a create whose owner lookup was in flight", async () => {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      const a = candidate("a", leases, clock);
      const lookup = leases.hold("create:before-send");
      const round = a.elector.tick();
      await lookup.reached;
      const stopping = a.elector.stop();
      lookup.release();
      await Promise.all([round, stopping]);
      expect(leases.record).toBeUndefined();
      expect(a.events).toEqual([]);
    });

    it("lets a create already sent finish, then releases the lease it got, without leading", async () => {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      const a = candidate("a", leases, clock);
      const sent = leases.hold("create:after-send");
      const round = a.elector.tick();
      await sent.reached;
      const stopping = a.elector.stop();
      sent.release();
      await Promise.all([round, stopping]);
      expect(leases.record?.holderIdentity).toBe("");
      expect(a.events).toEqual([]);
      expect(a.elector.state).toBe("stopped");
    });
  });

  describe("when the lease may not be created (its owner, the installation, is gone)", () => {
    async function parked() {
      const clock = new FakeClock(0);
      const leases = new FakeLeases();
      const a = candidate("a", leases, clock);
      const b = candidate("b", leases, clock);
      await a.elector.tick();
      await b.elector.tick();
      leases.record = undefined; // the garbage collector deleted it with its owner
      leases.refused = true;
      for (let i = 0; i < 10; i++) {
        clock.advance(2_000);
        await a.elector.tick();
        await b.elector.tick();
      }
      return { clock, leases, a, b };
    }

    it("the leader keeps leading past renewDeadline, and nothing is created", async () => {
      const { leases, a, b } = await parked();
      expect(a.elector.state).toBe("leader");
      expect(a.events).toEqual(["started"]);
      expect(b.elector.state).toBe("follower");
      expect(leases.record).toBeUndefined();
    });

    it("the leader re-creates the lease once it is allowed, before any follower", async () => {
      const { clock, leases, a, b } = await parked();
      leases.refused = false;
      clock.advance(2_000);
      await b.elector.tick();
      expect(leases.record).toBeUndefined();
      await a.elector.tick();
      await b.elector.tick();
      expect(leases.record?.holderIdentity).toBe("a");
      expect(a.events).toEqual(["started"]);
      expect(b.elector.state).toBe("follower");
    });

    it("a follower takes over leaseDuration after the last refusal when the parked leader is gone", async () => {
      const { clock, leases, b } = await parked();
      leases.refused = false;
      clock.advance(14_999);
      await b.elector.tick();
      expect(leases.record).toBeUndefined();
      clock.advance(1);
      await b.elector.tick();
      expect(leases.record?.holderIdentity).toBe("b");
      expect(b.events).toEqual(["started"]);
    });
  });
});
