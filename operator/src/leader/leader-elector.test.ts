import { describe, expect, it } from "vitest";
import { FakeClock } from "../controller/clock.js";
import { LeaderElector, type LeaseClient, LeaseConflictError, type LeaseRecord } from "./leader-elector.js";

/** An in-memory Lease with resourceVersion checks, like the API server's. */
class FakeLeases implements LeaseClient {
  record: LeaseRecord | undefined;
  private version = 0;
  failing = false;

  async get() {
    if (this.failing) throw new Error("unavailable");
    return this.record;
  }

  async create(record: LeaseRecord) {
    if (this.failing) throw new Error("unavailable");
    if (this.record) throw new LeaseConflictError();
    this.record = { ...record, resourceVersion: String(++this.version) };
    return this.record;
  }

  async update(record: LeaseRecord) {
    if (this.failing) throw new Error("unavailable");
    if (record.resourceVersion !== this.record?.resourceVersion) throw new LeaseConflictError();
    this.record = { ...record, resourceVersion: String(++this.version) };
    return this.record;
  }
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
    onStartedLeading: () => events.push("started"),
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
    expect(a.events).toEqual(["started", "stopped"]);
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
});
