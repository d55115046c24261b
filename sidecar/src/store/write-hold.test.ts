import { describe, expect, it } from "vitest";
import { holdOnAtDeadline, writeHoldDeadline } from "./write-hold.js";

const OPTIONS = { leaseMs: 600, commandTimeoutMs: 50, marginMs: 50 };

describe("writeHoldDeadline", () => {
  it("holds until the invalidation's send time + its command timeout + the lease + a margin", () => {
    expect(writeHoldDeadline(OPTIONS, 10_000, undefined)).toBe(10_700);
  });

  it("holds no longer than the lease + margin after this pod's own channel went down", () => {
    // Down 100 ms before the invalidation was sent: the outage began before that.
    expect(writeHoldDeadline(OPTIONS, 10_000, 9_900)).toBe(10_550);
    // Down since long ago: the deadline has passed, the write is not held.
    expect(writeHoldDeadline(OPTIONS, 10_000, 5_000)).toBeLessThan(10_000);
    // Down after it was sent (the channel noticed later): the send time's bound still applies.
    expect(writeHoldDeadline(OPTIONS, 10_000, 10_300)).toBe(10_700);
  });
});

describe("holdOnAtDeadline", () => {
  it("answers at the deadline when this pod does not hear Redis again (the proof covers the replicas)", () => {
    expect(holdOnAtDeadline(OPTIONS, { start: 10_000, now: 10_700, hearsRedis: false })).toBeUndefined();
  });

  it("holds on for one more hold when this pod hears Redis again (replicas may serve L1 again)", () => {
    expect(holdOnAtDeadline(OPTIONS, { start: 10_000, now: 10_700, hearsRedis: true })).toBe(11_400);
    // A deadline that came early (the invalidation was sent well before the hold began): still one more.
    expect(holdOnAtDeadline(OPTIONS, { start: 10_000, now: 10_100, hearsRedis: true })).toBe(10_800);
  });

  it("never past two holds after the hold began: then it is a brownout, and the write is answered", () => {
    expect(holdOnAtDeadline(OPTIONS, { start: 10_000, now: 11_000, hearsRedis: true })).toBe(11_400);
    expect(holdOnAtDeadline(OPTIONS, { start: 10_000, now: 11_400, hearsRedis: true })).toBeUndefined();
  });
});
