import { describe, expect, it } from "vitest";
import { FlakyStore, manualClock } from "../../test/store-fakes.js";
import { storeUnavailable } from "./errors.js";
import { L1Coherence } from "./l1-coherence.js";
import { MemoryStore } from "./memory-store.js";
import { TieredStore } from "./tiered-store.js";
import type { StoredEntry } from "./types.js";

const v = (text: string) => Buffer.from(text);
const HOUR = 3_600_000;

/** L2 whose reads can be held: the answer leaves "Redis" when read, and arrives when released. */
class HeldStore extends FlakyStore {
  #held: (() => void)[] = [];
  hold = false;

  override async getEntry(key: string): Promise<StoredEntry | undefined> {
    const answer = await super.getEntry(key);
    if (this.hold) await new Promise<void>((release) => this.#held.push(release));
    return answer;
  }

  release(): void {
    for (const release of this.#held.splice(0)) release();
  }
}

function setup() {
  const clock = manualClock();
  let time = 0;
  const l2 = new HeldStore(clock.now);
  const l1 = new MemoryStore({ maxBytes: 1 << 20, now: clock.now });
  const coherence = new L1Coherence({ target: l1, now: () => ++time });
  const store = new TieredStore({ l1, l2, maxEntryAgeMs: HOUR, now: clock.now, coherence });
  coherence.up();
  return { clock, l1, l2, coherence, store };
}

describe("tiered store with pushed invalidations", () => {
  it("serves L1 copies far past the old 1 s bound while nothing is pushed", async () => {
    const { clock, l2, store } = setup();
    await l2.inner.set("k", v("1"), { ttlMs: 2 * HOUR, tags: ["t"] });
    expect(await store.get("k")).toEqual(v("1"));
    clock.advance(10 * 60_000);
    const calls = l2.calls;
    expect(await store.get("k")).toEqual(v("1"));
    expect(l2.calls).toBe(calls);
  });

  it("reads L2 again once a push dropped the copy (another pod's write)", async () => {
    const { l2, coherence, store } = setup();
    await l2.inner.set("k", v("1"), { ttlMs: HOUR, tags: ["t"] });
    await store.get("k");
    await l2.inner.set("k", v("2"), { ttlMs: HOUR, tags: ["t"] });
    coherence.apply({ kind: "names", keys: [], tags: ["t"] });
    expect(await store.get("k")).toEqual(v("2"));
  });

  it("does not keep an L2 answer whose key was pushed while it was in flight", async () => {
    const { l1, l2, coherence, store } = setup();
    await l2.inner.set("k", v("old"), { ttlMs: HOUR, tags: ["t"] });
    l2.hold = true;
    const reading = store.get("k");
    await new Promise((resolve) => setImmediate(resolve));
    coherence.apply({ kind: "names", keys: ["k"], tags: [] });
    l2.release();
    expect(await reading).toEqual(v("old")); // concurrent with the change: may be old
    expect(l1.lookup("k")).toBeUndefined(); // but is not kept for later reads
  });

  it("does not keep an L2 answer one of whose tags was pushed while it was in flight", async () => {
    const { l1, l2, coherence, store } = setup();
    await l2.inner.set("k", v("old"), { ttlMs: HOUR, tags: ["item:1", "items"] });
    l2.hold = true;
    const reading = store.get("k");
    await new Promise((resolve) => setImmediate(resolve));
    coherence.apply({ kind: "names", keys: [], tags: ["items"] });
    l2.release();
    await reading;
    expect(l1.lookup("k")).toBeUndefined();
  });

  it("keeps an L2 answer when pushes in flight concern other keys and tags", async () => {
    const { l1, l2, coherence, store } = setup();
    await l2.inner.set("k", v("1"), { ttlMs: HOUR, tags: ["t"] });
    l2.hold = true;
    const reading = store.get("k");
    await new Promise((resolve) => setImmediate(resolve));
    coherence.apply({ kind: "names", keys: ["other"], tags: ["u"] });
    l2.release();
    await reading;
    expect(l1.lookup("k")?.value).toEqual(v("1"));
  });

  it("does not keep a fill in L1 when its tag was pushed after its fence was taken", async () => {
    const { l1, coherence, store } = setup();
    const fence = { ...(await store.fence(["t"])), takenAt: coherence.mark() };
    coherence.apply({ kind: "names", keys: [], tags: ["t"] });
    await store.set("k", v("fetched before the write"), { ttlMs: HOUR, tags: ["t"], fence });
    expect(l1.lookup("k")).toBeUndefined();
  });

  it("does not keep a fill whose fence could not be taken when its key was pushed since", async () => {
    const { l1, coherence, store } = setup();
    const fence = { tags: ["t"], takenAt: coherence.mark(), unavailable: true as const };
    coherence.apply({ kind: "names", keys: ["k"], tags: [] });
    await store.set("k", v("old"), { ttlMs: HOUR, tags: ["t"], fence });
    expect(l1.lookup("k")).toBeUndefined();
  });

  it("handles a push already received (its handler queued) before serving the L1 copy it drops", async () => {
    const { l2, coherence, store } = setup();
    await l2.inner.set("k", v("old"), { ttlMs: HOUR, tags: ["item:1"] });
    expect(await store.get("k")).toEqual(v("old")); // now in L1
    await l2.inner.set("k", v("new"), { ttlMs: HOUR, tags: ["item:1"] });
    // Another pod's write: its push reached this process before the read, but is handled in a later
    // callback of the same event-loop turn (a process that was descheduled wakes with both ready).
    setImmediate(() => coherence.apply({ kind: "names", keys: [], tags: ["item:1"] }));
    expect(await store.get("k")).toEqual(v("new"));
  });

  it("still serves an L1 copy no push concerns without asking L2", async () => {
    const { l2, coherence, store } = setup();
    await l2.inner.set("k", v("1"), { ttlMs: HOUR, tags: ["t"] });
    await store.get("k");
    setImmediate(() => coherence.apply({ kind: "names", keys: ["other"], tags: ["u"] }));
    const calls = l2.calls;
    expect(await store.get("k")).toEqual(v("1"));
    expect(l2.calls).toBe(calls);
  });

  describe("while the channel is down", () => {
    it("serves nothing from L1 and keeps nothing in it: every read asks L2", async () => {
      const { l1, l2, coherence, store } = setup();
      await l2.inner.set("k", v("1"), { ttlMs: HOUR, tags: ["t"] });
      await store.get("k");
      coherence.down();
      const calls = l2.calls;
      expect(await store.get("k")).toEqual(v("1"));
      expect(await store.get("k")).toEqual(v("1"));
      expect(l2.calls).toBe(calls + 2);
      expect(l1.entries).toBe(0);
    });

    it("does not fail open to L1 when L2 cannot be reached", async () => {
      const { l2, coherence, store } = setup();
      await l2.inner.set("k", v("1"), { ttlMs: HOUR, tags: ["t"] });
      await store.get("k");
      coherence.down();
      l2.down(storeUnavailable("fake-redis", "get", new Error("gone")));
      await expect(store.get("k")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_UNAVAILABLE" });
    });

    it("serves from L1 again once the channel is up", async () => {
      const { l2, coherence, store } = setup();
      await l2.inner.set("k", v("1"), { ttlMs: HOUR, tags: ["t"] });
      coherence.down();
      coherence.up();
      await store.get("k");
      const calls = l2.calls;
      expect(await store.get("k")).toEqual(v("1"));
      expect(l2.calls).toBe(calls);
    });
  });
});

describe("tiered store under the channel's lease", () => {
  it("does not serve an L1 copy once the lease lapsed: reads L2 (and fails, not falls back, when it is cut too)", async () => {
    const clock = manualClock();
    let time = 0;
    const refusals: number[] = [];
    const l2 = new HeldStore(clock.now);
    const l1 = new MemoryStore({ maxBytes: 1 << 20, now: clock.now });
    const coherence = new L1Coherence({
      target: l1,
      now: () => time,
      leaseMs: 600,
      events: { onLeaseRefusal: () => refusals.push(time) },
    });
    const store = new TieredStore({ l1, l2, maxEntryAgeMs: HOUR, now: clock.now, coherence });
    coherence.up();
    coherence.heard(0);
    time = 1; // after the flush of coming up
    await l2.inner.set("k", v("old"), { ttlMs: HOUR, tags: ["t"] });
    expect(await store.get("k")).toEqual(v("old"));
    const calls = l2.calls;
    time = 600;
    expect(await store.get("k")).toEqual(v("old"));
    expect(l2.calls).toBe(calls); // an L1 hit
    time = 601; // no PONG since: maybe cut from Redis, its pushes lost
    await l2.inner.set("k", v("new"), { ttlMs: HOUR, tags: ["t"] });
    expect(await store.get("k")).toEqual(v("new"));
    expect(refusals).toEqual([601]);
    l2.down(storeUnavailable("fake-redis", "get", new Error("cut")));
    await expect(store.get("k")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_UNAVAILABLE" });
    coherence.heard(601); // a late PONG: L1 serves again, without a flush in between
    expect(await store.get("k")).toEqual(v("new"));
  });
});
