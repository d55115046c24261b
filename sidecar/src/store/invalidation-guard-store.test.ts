import type { Logger } from "pino";
import { describe, expect, it, vi } from "vitest";
import { commandRefused, FlakyStore } from "../../test/store-fakes.js";
import { storeCircuitOpen, storeSlotMoved, storeUnavailable } from "./errors.js";
import { InvalidationGuardStore, type PendingState, type WriteHold } from "./invalidation-guard-store.js";

const v = (text: string) => Buffer.from(text);
const FAST_RETRY = { baseMs: 1, maxMs: 5 };

function setup(maxPending = 100) {
  const l2 = new FlakyStore();
  const states: PendingState[] = [];
  const store = new InvalidationGuardStore(l2, {
    maxPending,
    retry: FAST_RETRY,
    onChange: (state) => states.push(state),
  });
  return { l2, store, states };
}

describe("the invalidation guard", () => {
  describe("when Redis fails an invalidation", () => {
    it("resolves, hides the entries it concerns, and applies it once Redis is back", async () => {
      const { l2, store, states } = setup();
      await store.set("a", v("old a"), { ttlMs: 60_000, tags: ["slots"] });
      await store.set("b", v("b"), { ttlMs: 60_000, tags: ["other"] });
      l2.down(storeCircuitOpen("fake-redis", 1_000));
      await expect(store.deleteTags(["slots"])).resolves.toBe(0);
      expect(store.pending).toBe(1);

      // Redis is back but the retry has not run yet: the old entry is still there, yet not served.
      const retrying = vi.waitFor(() => expect(store.pending).toBe(0), { timeout: 5_000, interval: 5 });
      l2.up();
      expect(await l2.inner.get("a")).toEqual(v("old a"));
      expect(await store.get("a")).toBeUndefined();
      expect(await store.get("b")).toEqual(v("b"));
      await retrying;

      expect(await l2.inner.get("a")).toBeUndefined();
      expect(states.at(-1)).toMatchObject({ pending: 0, bypassingReads: false });
    });

    it("queues failed key deletes the same way", async () => {
      const { l2, store } = setup();
      await store.set("k", v("old"), { ttlMs: 60_000, tags: [] });
      l2.down();
      await expect(store.delete(["k"])).resolves.toBe(0);
      l2.up();
      expect(await store.get("k")).toBeUndefined();
      await vi.waitFor(() => expect(store.pending).toBe(0), { timeout: 5_000, interval: 5 });
      expect(await l2.inner.get("k")).toBeUndefined();
    });
  });

  describe("when Redis fails an invalidation for a moment", () => {
    it("retries it within settleWithinMs, so it is applied before the caller resumes", async () => {
      const l2 = new FlakyStore();
      const store = new InvalidationGuardStore(l2, { retry: FAST_RETRY, settleWithinMs: 5_000 });
      await store.set("a", v("old"), { ttlMs: 60_000, tags: ["slots"] });
      l2.down();
      const invalidating = store.deleteTags(["slots"]);
      await vi.waitFor(() => expect(l2.calls).toBeGreaterThan(2), { timeout: 5_000, interval: 5 });
      l2.up();
      await expect(invalidating).resolves.toBe(1);
      expect(store.pending).toBe(0);
      expect(await l2.inner.get("a")).toBeUndefined();
    });

    it("queues it once settleWithinMs has passed", async () => {
      const l2 = new FlakyStore();
      const store = new InvalidationGuardStore(l2, { retry: FAST_RETRY, settleWithinMs: 30 });
      l2.down();
      await expect(store.deleteTags(["slots"])).resolves.toBe(0);
      expect(l2.calls).toBeGreaterThan(1);
      expect(store.pending).toBe(1);
      await store.close();
    });
  });

  describe("when Redis refuses an invalidation (not a transient failure)", () => {
    it("rejects as before and queues nothing", async () => {
      const { l2, store } = setup();
      l2.down(commandRefused());
      await expect(store.deleteTags(["t"])).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_COMMAND" });
      expect(store.pending).toBe(0);
    });
  });

  describe("when the queue overflows", () => {
    it("skips L2 reads until it drains, counts the drop, and keeps hiding older entries", async () => {
      const { l2, store, states } = setup(1);
      await store.set("old", v("old"), { ttlMs: 60_000, tags: ["dropped"] });
      l2.down();
      await store.deleteTags(["kept"]);
      await store.deleteTags(["dropped"]);
      expect(states.some((state) => state.dropped === 1)).toBe(true);
      expect(store.stats().pendingInvalidations).toMatchObject({ pending: 1, bypassingReads: true });
      l2.up();
      const callsBefore = l2.calls;
      expect(await store.get("old")).toBeUndefined();
      await vi.waitFor(() => expect(store.pending).toBe(0), { timeout: 5_000, interval: 5 });
      expect(l2.calls).toBeGreaterThan(callsBefore);
      // The "dropped" tag was never applied: the entry is still in L2, but written before the drop.
      expect(await l2.inner.get("old")).toEqual(v("old"));
      expect(await store.get("old")).toBeUndefined();
    });
  });
});

describe("the invalidation guard's write hold (replicas' L1 leases)", () => {
  function held(downSince?: number, hears?: { probe: () => void }) {
    let time = 1_000;
    const l2 = new FlakyStore();
    const holds: number[] = [];
    const hold: WriteHold = {
      options: { leaseMs: 600, commandTimeoutMs: 50, marginMs: 50 },
      clock: () => time,
      channelDownSince: () => downSince,
      onHeld: (ms) => holds.push(ms),
      ...(hears === undefined ? {} : { hearsRedis: () => true, probe: hears.probe }),
    };
    const store = new InvalidationGuardStore(l2, {
      retry: { baseMs: 200, maxMs: 200, random: () => 0 },
      hold,
    });
    const advance = async (ms: number) => {
      time += ms;
      await vi.advanceTimersByTimeAsync(ms);
    };
    /** Starts an invalidation; `done()` says whether it has resolved. */
    const invalidate = () => {
      let resolved = false;
      const promise = store.deleteTags(["t"]).then((removed) => {
        resolved = true;
        return removed;
      });
      return { promise, done: () => resolved };
    };
    return { l2, store, holds, advance, invalidate };
  }

  it("answers a write whose invalidation Redis did not take only once the leases ran out", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const { l2, store, holds, advance, invalidate } = held();
      l2.down();
      const write = invalidate();
      await advance(0); // queued at once (settleWithinMs 0)
      await advance(699);
      expect([write.done(), store.pending]).toEqual([false, 1]);
      await advance(1);
      expect(write.done()).toBe(true);
      expect(holds).toEqual([700]);
      await store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("answers it as soon as the retry applied it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const { l2, store, holds, advance, invalidate } = held();
      l2.down();
      const write = invalidate();
      await advance(0);
      await advance(100);
      l2.up();
      await advance(100); // the retry, 200 ms after the failure, applies it
      expect([write.done(), store.pending]).toEqual([true, 0]);
      expect(holds).toEqual([200]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("retries at once, letting an open circuit probe, when this pod hears Redis (after an outage)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      let probes = 0;
      const fake = held(undefined, {
        probe: () => {
          probes++;
          fake.l2.up(); // the circuit lets the retry through, and Redis answers it
        },
      });
      fake.l2.down();
      const write = fake.invalidate();
      await fake.advance(0);
      expect([write.done(), fake.store.pending, probes, fake.holds]).toEqual([true, 0, 1, [0]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("re-checks while held: once this pod hears Redis again it probes and retries at once (a short partition)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      let time = 1_000;
      let hears = false;
      let probes = 0;
      const l2 = new FlakyStore();
      const store = new InvalidationGuardStore(l2, {
        retry: { baseMs: 5_000, maxMs: 5_000, random: () => 0 }, // the backoff alone would miss the hold
        hold: {
          options: { leaseMs: 600, commandTimeoutMs: 50, marginMs: 50 },
          clock: () => time,
          channelDownSince: () => undefined,
          hearsRedis: () => hears,
          probe: () => {
            probes++;
            l2.up(); // the circuit lets the retry through, and Redis answers it
          },
        },
      });
      const advance = async (ms: number) => {
        time += ms;
        await vi.advanceTimersByTimeAsync(ms);
      };
      l2.down();
      let done = false;
      void store.deleteTags(["t"]).then(() => (done = true));
      await advance(0);
      await advance(300);
      expect([done, store.pending, probes]).toEqual([false, 1, 0]);
      hears = true; // the partition healed: the lease is renewed, no channel went down
      await advance(100);
      expect([done, store.pending, probes]).toEqual([true, 0, 1]);
    } finally {
      vi.useRealTimers();
    }
  });

  describe("when the partition heals while the write is held and the retry at the heal fails", () => {
    /** A write held from t=0 (its deadline at 700), healed at 300; Redis answers as `l2` says. */
    async function healedDuringHold() {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
      const start = performance.now();
      const at = () => performance.now() - start;
      let hears = false;
      const probes: number[] = [];
      const holds: number[] = [];
      const warnings: string[] = [];
      const l2 = new FlakyStore();
      const store = new InvalidationGuardStore(l2, {
        retry: { baseMs: 5_000, maxMs: 5_000, random: () => 0 }, // the backoff alone would not retry in time
        logger: {
          warn: (_fields: unknown, message: string) => warnings.push(message),
          info: () => {},
          error: () => {},
        } as unknown as Logger,
        hold: {
          options: { leaseMs: 600, commandTimeoutMs: 50, marginMs: 50 },
          clock: () => performance.now(),
          channelDownSince: () => undefined,
          hearsRedis: () => hears,
          probe: () => probes.push(at()),
          onHeld: (ms) => holds.push(ms),
        },
      });
      l2.down(); // timeouts: the cut, then a loaded pod's retry at the heal
      let done = false;
      void store.deleteTags(["t"]).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(300);
      hears = true; // healed: every lease renewed, no channel went down
      await vi.advanceTimersByTimeAsync(100); // the re-check hears Redis: probe and retry (once per lease), in vain
      expect([done, store.pending, probes]).toEqual([false, 1, [400]]);
      /** What was said about answering unapplied (the first warning is the queueing's). */
      const warned = () => warnings.filter((message) => message.includes("replicas that hear Redis"));
      return { l2, store, probes, holds, warned, done: () => done };
    }

    it("does not answer at the deadline while this pod hears Redis: it retries at once and holds until applied", async () => {
      try {
        const held = await healedDuringHold();
        await vi.advanceTimersByTimeAsync(300); // the deadline (700): replicas hear Redis too, and serve L1
        expect([held.done(), held.store.pending, held.probes]).toEqual([false, 1, [400, 700]]);
        held.l2.up();
        await vi.advanceTimersByTimeAsync(100); // the next re-check retries at once (not once per lease): applied
        expect([held.done(), held.store.pending, held.probes]).toEqual([true, 0, [400, 700, 800]]);
        expect([held.holds, held.warned()]).toEqual([[800], []]);
      } finally {
        vi.useRealTimers();
      }
    });

    it("answers after one more hold if Redis still does not take it after the heal (a brownout), and says so", async () => {
      try {
        const held = await healedDuringHold();
        await vi.advanceTimersByTimeAsync(999); // 1,399: one more hold after the first would end at 1,400
        expect(held.done()).toBe(false);
        await vi.advanceTimersByTimeAsync(1);
        expect([held.done(), held.store.pending, held.holds]).toEqual([true, 1, [1_400]]);
        // Retried at the deadline and on each re-check after it, not once per lease.
        expect(held.probes).toEqual([400, 700, 800, 900, 1_000, 1_100, 1_200, 1_300]);
        expect(held.warned()).toHaveLength(1);
        await held.store.close();
      } finally {
        vi.useRealTimers();
      }
    });
  });

  it("holds on at the deadline after a partition shorter than this pod's lease healed (its lease never lapsed, so it 'heard Redis throughout')", async () => {
    // Review of ADR 0018's amendment: `hearsRedis` is the lease (a PING answered within 600 ms), not
    // "Redis answers now". A cut that heals before the pod's last proof is 600 ms old never makes it
    // false, so Decision 4 takes the healed partition for a brownout and answers at the deadline with
    // the invalidation queued, while every replica (its lease never lapsed either) serves the old copy.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const start = performance.now();
      let heardAt = start - 100; // the last answered PING, sent 100 ms before the cut at `start`
      const l2 = new FlakyStore();
      const store = new InvalidationGuardStore(l2, {
        retry: { baseMs: 5_000, maxMs: 5_000, random: () => 0 }, // the backoff alone would not retry in time
        hold: {
          options: { leaseMs: 600, commandTimeoutMs: 50, marginMs: 50 },
          clock: () => performance.now(),
          channelDownSince: () => undefined, // shorter than the channel's silence: no channel went down
          hearsRedis: () => performance.now() - heardAt <= 600,
        },
      });
      l2.down(); // the cut (then a loaded pod's retries fail, as in the amendment's Window 2)
      let done = false;
      void store.deleteTags(["t"]).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(400);
      heardAt = performance.now(); // healed at 400, before the lease (until 500) lapsed: PINGs answered again
      await vi.advanceTimersByTimeAsync(300); // the deadline (700): replicas hear Redis and serve L1
      expect([done, store.pending]).toEqual([false, 1]);
      l2.up();
      await vi.advanceTimersByTimeAsync(100); // held on: the next re-check retries at once
      expect([done, store.pending]).toEqual([true, 0]);
      await store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("holds on when this pod heard Redis throughout (a brownout, or a cut healed within the lease: alike), one more hold at most", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      let probes = 0;
      const fake = held(undefined, { probe: () => probes++ });
      fake.l2.down(); // data commands time out while the heartbeats are answered
      const write = fake.invalidate();
      await fake.advance(0);
      await fake.advance(699);
      expect([write.done(), probes]).toEqual([false, 2]); // at the start, and a lease later
      await fake.advance(1);
      expect([write.done(), fake.store.pending, probes]).toEqual([false, 1, 3]); // held on, retried at once
      await fake.advance(699);
      expect(write.done()).toBe(false);
      await fake.advance(1);
      expect([write.done(), fake.store.pending, fake.holds]).toEqual([true, 1, [1_400]]);
      await fake.store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("counts the hold from the last attempt the settle loop sent, not from the first", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const l2 = new FlakyStore();
      const sent: number[] = [];
      const deleteTags = l2.deleteTags.bind(l2);
      l2.deleteTags = (tags) => {
        sent.push(performance.now());
        return deleteTags(tags);
      };
      const store = new InvalidationGuardStore(l2, {
        settleWithinMs: 200,
        retry: { baseMs: 5_000, maxMs: 5_000, random: () => 0 },
        hold: {
          options: { leaseMs: 600, commandTimeoutMs: 50, marginMs: 50 },
          clock: () => performance.now(),
          channelDownSince: () => undefined,
        },
      });
      const start = performance.now();
      l2.down(); // every attempt times out: the cut may fall while the last one is in flight
      let done = false;
      void store.deleteTags(["t"]).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(300);
      const last = (sent.at(-1) as number) - start;
      expect([sent.length > 1, last > 0]).toEqual([true, true]);
      await vi.advanceTimersByTimeAsync(last + 700 - 300 - 1);
      expect(done).toBe(false); // the first attempt's deadline (start + 700) has passed
      await vi.advanceTimersByTimeAsync(1);
      expect(done).toBe(true);
      await store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("counts the hold from when the settle loop gave up when the circuit skipped its attempts (nothing was sent)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const l2 = new FlakyStore();
      const tried: number[] = [];
      const deleteTags = l2.deleteTags.bind(l2);
      l2.deleteTags = (tags) => {
        tried.push(performance.now());
        return deleteTags(tags);
      };
      const store = new InvalidationGuardStore(l2, {
        settleWithinMs: 200,
        retry: { baseMs: 5_000, maxMs: 5_000, random: () => 0 },
        hold: {
          options: { leaseMs: 600, commandTimeoutMs: 50, marginMs: 50 },
          clock: () => performance.now(),
          channelDownSince: () => undefined,
        },
      });
      // Open for a reason unknown here (a brownout?): a cut may fall at any time while it skips.
      l2.down(storeCircuitOpen("fake-redis", 1_000));
      const start = performance.now();
      let done = false;
      void store.deleteTags(["t"]).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(300);
      const gaveUp = (tried.at(-1) as number) - start; // the last skip: settle gave up right then
      expect([tried.length > 1, store.pending]).toEqual([true, 1]);
      await vi.advanceTimersByTimeAsync(gaveUp + 650 - 300 - 1);
      expect(done).toBe(false); // from the first attempt it would have ended at start + 700
      await vi.advanceTimersByTimeAsync(1);
      expect(done).toBe(true);
      await store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not hold when this pod's channel has been down for longer than the lease (an old outage)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const { l2, store, holds, invalidate } = held(300);
      l2.down();
      const write = invalidate();
      await vi.advanceTimersByTimeAsync(0);
      expect([write.done(), store.pending, holds]).toEqual([true, 1, []]);
      await store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not hold when Redis answered the invalidation with an error (OOM, LOADING, MOVED): it is only queued", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const reply = (text: string) => Object.assign(new Error(text), { name: "ReplyError" });
      for (const error of [
        storeUnavailable(
          "fake-redis",
          "delete_tags",
          reply("OOM command not allowed when used memory > 'maxmemory'"),
        ),
        storeUnavailable(
          "fake-redis",
          "delete_tags",
          reply("LOADING Redis is loading the dataset in memory"),
        ),
        storeSlotMoved("fake-redis", "delete_tags", reply("MOVED 3999 127.0.0.1:6381")),
      ]) {
        const { l2, store, holds, invalidate } = held();
        l2.down(error);
        const write = invalidate();
        await vi.advanceTimersByTimeAsync(0);
        expect([write.done(), store.pending, holds]).toEqual([true, 1, []]);
        await store.close();
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it("holds for a lost connection (no reply), and probes and retries at most once per lease for many writes", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      let probes = 0;
      const fake = held(undefined, { probe: () => probes++ });
      fake.l2.down(storeUnavailable("fake-redis", "delete_tags", new Error("Connection is closed.")));
      const writes = [fake.invalidate(), fake.invalidate(), fake.invalidate()];
      await fake.advance(0);
      await fake.advance(300);
      expect([writes.some((write) => write.done()), probes]).toEqual([false, 1]);
      await fake.advance(300); // a lease (600 ms) after the first: once more
      expect(probes).toBe(2);
      await fake.store.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not hold what Redis took", async () => {
    const { store, holds } = held();
    await expect(store.deleteTags(["t"])).resolves.toBe(0);
    expect(holds).toEqual([]);
  });
});
