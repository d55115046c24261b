/**
 * Leadership that ends cleanly (issue #13; found by review). The invariant: at no point do two
 * replicas both hold an un-aborted term of leadership (the term signal fences the controller's
 * writes, reconcile/fenced-writer.ts).
 */
import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { LeaderElector } from "./leader-elector.js";
import { type LeaseClient, LeaseConflictError, type LeaseRecord } from "./lease.js";

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** An in-memory Lease with resourceVersion + uid preconditions, like the API server's. */
class Leases implements LeaseClient {
  record: LeaseRecord | undefined;
  private version = 0;
  failing = false;
  /** When set, the next update is COMMITTED at once but its response is held until released. */
  slowResponse: ReturnType<typeof deferred> | undefined;

  async get() {
    if (this.failing) throw new Error("unavailable");
    return this.record;
  }

  async create(record: LeaseRecord) {
    if (this.failing) throw new Error("unavailable");
    if (this.record) throw new LeaseConflictError();
    this.record = { ...record, resourceVersion: String(++this.version), uid: "uid-1" };
    return this.record;
  }

  async update(record: LeaseRecord) {
    if (this.failing) throw new Error("unavailable");
    const { resourceVersion, uid } = this.record ?? {};
    if (!this.record || record.resourceVersion !== resourceVersion || record.uid !== uid)
      throw new LeaseConflictError();
    this.record = { ...record, resourceVersion: String(++this.version) };
    const written = this.record;
    const gate = this.slowResponse;
    this.slowResponse = undefined;
    if (gate) await gate.promise; // the write took effect; the answer is slow to come back
    return written;
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** An elector whose term signal is kept, so the test can see whether it still "acts". */
function replica(identity: string, leases: LeaseClient, clock: FakeClock, stopLeading?: () => Promise<void>) {
  let term: AbortSignal | undefined;
  const elector = new LeaderElector({
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    client: leases,
    onStartedLeading: (signal) => {
      term = signal;
    },
    ...(stopLeading ? { stopLeading } : {}),
    onStoppedLeading: () => undefined,
    random: () => 0,
  });
  return { elector, acting: () => term !== undefined && !term.aborted };
}

describe("no split brain in LeaderElector", () => {
  it("a graceful stop keeps renewing while its term drains: nobody else leads until it has stopped acting", async () => {
    const clock = new FakeClock(0);
    const leases = new Leases();
    const drain = deferred(); // e.g. a reconcile whose write hangs on a partitioned connection
    const a = replica("a", leases, clock, () => drain.promise);
    const b = replica("b", leases, clock);
    await a.elector.tick();
    await b.elector.tick();
    a.elector.start();
    b.elector.start();
    expect(a.acting()).toBe(true);

    const stopping = a.elector.stop(); // SIGTERM
    let overlap = false;
    for (let t = 0; t < 20; t++) {
      clock.advance(2_000); // 40 s: well past leaseDuration
      await flush();
      if (a.acting() && b.elector.isLeader) overlap = true;
    }
    expect(a.acting()).toBe(true); // still draining, still the leader: renewals went on
    expect(b.elector.isLeader).toBe(false);
    drain.resolve();
    await stopping; // the term ends, then the Lease is released
    expect(a.acting()).toBe(false);
    clock.advance(2_000);
    await flush();
    expect(b.elector.isLeader).toBe(true);
    expect(overlap).toBe(false);
    await b.elector.stop();
  });

  it("a renewal whose response is slow moves the leader's deadline past the follower's takeover", async () => {
    const clock = new FakeClock(0);
    const leases = new Leases();
    const a = replica("a", leases, clock);
    const b = replica("b", leases, clock);
    await a.elector.tick(); // t=0: a leads
    clock.advance(2_000);
    // t=2000: a's renewal is committed at once (renewTime 2000) but its answer takes 7 s (< the
    // 8 s budget the round gets: lastRenew + renewDeadline - now).
    leases.slowResponse = deferred();
    const gate = leases.slowResponse;
    const renewal = a.elector.tick();
    await flush();
    await b.elector.tick(); // b sees the renewed record at t=2000
    clock.advance(7_000);
    gate.resolve();
    await renewal; // a's renew deadline counts from 2000 (sent), not 9000 (answered): 12000
    // a is now partitioned from the API server: it cannot renew any more.
    leases.failing = true;
    clock.advance(2_000); // t=11000
    await a.elector.tick();
    leases.failing = false;
    // b keeps polling; it may acquire at 2000 + 15000 = 17000.
    clock.advance(6_000); // t=17000
    await b.elector.tick();
    expect(b.elector.isLeader).toBe(true);
    // a stopped acting at 12000, before b could lead at 17000.
    expect(a.acting()).toBe(false);
  });
});
