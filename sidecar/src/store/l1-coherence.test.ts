import { describe, expect, it } from "vitest";
import { type FlushReason, L1Coherence, type PushedInvalidation, parseInvalidation } from "./l1-coherence.js";
import { MemoryStore } from "./memory-store.js";

const PREFIX = "shop/api";

function setup(options: { limit?: number } = {}) {
  let time = 1_000;
  const l1 = new MemoryStore({ maxBytes: 1_000_000 });
  const events = {
    invalidations: [] as [PushedInvalidation, number][],
    flushes: [] as [FlushReason, number][],
    channel: [] as boolean[],
  };
  const coherence = new L1Coherence({
    target: l1,
    now: () => time,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    events: {
      onInvalidation: (invalidation, dropped) => events.invalidations.push([invalidation, dropped]),
      onFlush: (reason, dropped) => events.flushes.push([reason, dropped]),
      onChannel: (up) => events.channel.push(up),
    },
  });
  const put = (key: string, tags: string[] = []) => l1.put(key, Buffer.from(key), { ttlMs: 60_000, tags });
  const tick = () => {
    time += 1;
  };
  return { l1, coherence, events, put, tick };
}

describe("parseInvalidation", () => {
  it("reads key invalidation marks and tag generations under the prefix, as buffers or strings", () => {
    expect(
      parseInvalidation(PREFIX, [
        Buffer.from("shop/api:d|GET /a,b?x=1"),
        "shop/api:g|item:7",
        Buffer.from("shop/api:t|item:7"),
        Buffer.from("other:d|GET /a"),
      ]),
    ).toEqual({ kind: "names", keys: ["GET /a,b?x=1"], tags: ["item:7"] });
  });

  it("ignores entries themselves (not tracked: a fill, an expiry or an eviction invalidates nothing)", () => {
    expect(parseInvalidation(PREFIX, [Buffer.from("shop/api:k|GET /a")])).toBe(undefined);
  });

  it("reads a null or empty payload as a flush (FLUSHALL, FLUSHDB)", () => {
    expect(parseInvalidation(PREFIX, null)).toEqual({ kind: "flush" });
    expect(parseInvalidation(PREFIX, [])).toEqual({ kind: "flush" });
  });

  it("ignores messages that name nothing of this prefix's entries or generations", () => {
    expect(parseInvalidation(PREFIX, [Buffer.from("shop/api:t|x"), Buffer.from("shop/api-2:d|x")])).toBe(
      undefined,
    );
    expect(parseInvalidation(PREFIX, Buffer.from("not a list"))).toBe(undefined);
  });
});

describe("L1 coherence", () => {
  describe("before the channel is up", () => {
    it("does not let L1 serve or store, and says so once", () => {
      const { coherence, events } = setup();
      expect(coherence.serving).toBe(false);
      expect(coherence.changedSince(coherence.mark(), "a", [])).toBe(true);
      expect(events.channel).toEqual([false]);
    });
  });

  describe("when the channel comes up", () => {
    it("flushes L1 (changes before it were not pushed) and lets it serve", () => {
      const { coherence, events, put, l1 } = setup();
      put("a");
      coherence.up();
      expect(l1.entries).toBe(0);
      expect(coherence.serving).toBe(true);
      expect(events.flushes).toEqual([["channel_up", 1]]);
      expect(events.channel).toEqual([false, true]);
    });

    it("counts answers asked for before it as changed", () => {
      const { coherence, tick } = setup();
      const before = coherence.mark();
      tick();
      coherence.up();
      tick();
      expect(coherence.changedSince(before, "a", [])).toBe(true);
      expect(coherence.changedSince(coherence.mark(), "a", [])).toBe(false);
    });
  });

  describe("when a push names an entry key", () => {
    it("drops that key's L1 copy only", () => {
      const { coherence, put, l1, events, tick } = setup();
      coherence.up();
      put("a", ["t"]);
      put("b", ["t"]);
      tick();
      coherence.apply({ kind: "names", keys: ["a"], tags: [] });
      expect(l1.lookup("a")).toBe(undefined);
      expect(l1.lookup("b")).toBeDefined();
      expect(events.invalidations).toEqual([[{ kind: "names", keys: ["a"], tags: [] }, 1]]);
    });

    it("refuses to keep an answer for that key asked for before the push, and keeps others", () => {
      const { coherence, tick } = setup();
      coherence.up();
      tick();
      const mark = coherence.mark();
      tick();
      coherence.apply({ kind: "names", keys: ["a"], tags: [] });
      expect(coherence.changedSince(mark, "a", ["t"])).toBe(true);
      expect(coherence.changedSince(mark, "b", ["t"])).toBe(false);
    });

    it("counts a push at the very time of the mark as a change", () => {
      const { coherence, tick } = setup();
      coherence.up();
      tick();
      const mark = coherence.mark();
      coherence.apply({ kind: "names", keys: ["a"], tags: [] });
      expect(coherence.changedSince(mark, "a", [])).toBe(true);
    });

    it("keeps an answer asked for after the push", () => {
      const { coherence, tick } = setup();
      coherence.up();
      tick();
      coherence.apply({ kind: "names", keys: ["a"], tags: [] });
      tick();
      expect(coherence.changedSince(coherence.mark(), "a", [])).toBe(false);
    });
  });

  describe("when a push names a tag's generation (a tag or path invalidation)", () => {
    it("drops every L1 copy carrying the tag", () => {
      const { coherence, put, l1, tick } = setup();
      coherence.up();
      put("a", ["item:1", "items"]);
      put("b", ["item:2", "items"]);
      put("c", ["item:2"]);
      tick();
      coherence.apply({ kind: "names", keys: [], tags: ["items"] });
      expect([l1.lookup("a"), l1.lookup("b")]).toEqual([undefined, undefined]);
      expect(l1.lookup("c")).toBeDefined();
    });

    it("refuses to keep an answer carrying the tag that was asked for before the push", () => {
      const { coherence, tick } = setup();
      coherence.up();
      tick();
      const mark = coherence.mark();
      tick();
      coherence.apply({ kind: "names", keys: [], tags: ["items"] });
      expect(coherence.changedSince(mark, "x", ["item:9", "items"])).toBe(true);
      expect(coherence.changedSince(mark, "x", ["item:9"])).toBe(false);
    });
  });

  describe("when Redis is flushed", () => {
    it("drops all of L1 and every answer asked for before", () => {
      const { coherence, put, l1, events, tick } = setup();
      coherence.up();
      put("a");
      put("b");
      const mark = coherence.mark();
      tick();
      coherence.apply({ kind: "flush" });
      expect(l1.entries).toBe(0);
      expect(events.flushes.at(-1)).toEqual(["flush_message", 2]);
      expect(coherence.changedSince(mark, "z", [])).toBe(true);
      expect(coherence.serving).toBe(true);
    });
  });

  describe("when the channel goes down", () => {
    it("flushes L1, stops it serving and storing, until the channel is up again", () => {
      const { coherence, put, l1, events, tick } = setup();
      coherence.up();
      put("a");
      tick();
      coherence.down();
      expect(l1.entries).toBe(0);
      expect(coherence.serving).toBe(false);
      expect(events.flushes.at(-1)).toEqual(["channel_down", 1]);
      tick();
      expect(coherence.changedSince(coherence.mark(), "a", [])).toBe(true);
      coherence.up();
      tick();
      expect(coherence.changedSince(coherence.mark(), "a", [])).toBe(false);
      expect(events.channel).toEqual([false, true, false, true]);
    });

    it("reports each transition once", () => {
      const { coherence, events } = setup();
      coherence.down();
      coherence.up();
      coherence.up();
      coherence.down();
      coherence.down();
      expect(events.channel).toEqual([false, true, false]);
    });
  });

  describe("when more names were pushed than it remembers", () => {
    it("treats answers asked for before a forgotten push as changed", () => {
      const { coherence, tick } = setup({ limit: 2 });
      coherence.up();
      tick();
      const early = coherence.mark();
      tick();
      coherence.apply({ kind: "names", keys: ["a"], tags: [] });
      tick();
      const middle = coherence.mark();
      tick();
      coherence.apply({ kind: "names", keys: ["b", "c"], tags: [] }); // "a" is forgotten
      expect(coherence.changedSince(early, "z", [])).toBe(true);
      expect(coherence.changedSince(middle, "z", [])).toBe(false);
      expect(coherence.changedSince(middle, "b", [])).toBe(true);
    });
  });
});

describe("L1Coherence's lease", () => {
  function leased(leaseMs = 600) {
    let time = 0;
    const l1 = new MemoryStore({ maxBytes: 1_000_000 });
    const refusals: number[] = [];
    const renewals: number[] = [];
    const coherence = new L1Coherence({
      target: l1,
      now: () => time,
      leaseMs,
      events: { onLeaseRefusal: () => refusals.push(time), onLeaseRenewed: () => renewals.push(time) },
    });
    return { l1, coherence, refusals, renewals, at: (t: number) => (time = t) };
  }

  it("serves while the last proof of hearing Redis is at most leaseMs old, then refuses without a flush", () => {
    const { l1, coherence, at } = leased();
    coherence.up();
    coherence.heard(100);
    l1.put("a", Buffer.from("a"), { ttlMs: 60_000, tags: [] });
    at(700);
    expect([coherence.serving, coherence.lapsed]).toEqual([true, false]);
    at(701);
    expect([coherence.serving, coherence.lapsed, l1.entries]).toEqual([false, true, 1]);
    coherence.heard(650); // a late PONG
    expect(coherence.serving).toBe(true);
    coherence.heard(50); // never moves back
    expect(coherence.serving).toBe(true);
  });

  it("says when a lapsed lease is valid again (Redis heard after a short partition), once per lapse", () => {
    const { coherence, renewals, at } = leased();
    coherence.up();
    coherence.heard(100);
    at(600);
    coherence.heard(500); // renewed while valid: not a renewal of a lapsed lease
    at(1_200);
    expect(coherence.lapsed).toBe(true);
    coherence.heard(1_150); // the PONGs delivered at the heal
    coherence.heard(1_180);
    expect(renewals).toEqual([1_200]);
  });

  it("is not lapsed while the channel is down (down is its own state), and says since when it is down", () => {
    const { coherence, at } = leased();
    at(10);
    coherence.up();
    expect(coherence.downSince).toBeUndefined();
    at(5_000);
    coherence.down();
    expect([coherence.serving, coherence.lapsed, coherence.downSince]).toEqual([false, false, 5_000]);
  });

  it("has no downSince before the channel was first up, nor after a down that lost no armed connection", () => {
    const { coherence, at } = leased();
    expect(coherence.downSince).toBeUndefined();
    coherence.up();
    at(5_000);
    coherence.down({ lost: false }); // e.g. a new cluster master not armed yet
    expect(coherence.downSince).toBeUndefined();
    coherence.up();
    at(6_000);
    coherence.down();
    expect(coherence.downSince).toBe(6_000);
    coherence.answered(); // Redis answered again (a reconnection, a refusal): a later cut is a new outage
    expect(coherence.downSince).toBeUndefined();
  });

  it("without a lease, serves whenever the channel is up", () => {
    const l1 = new MemoryStore({ maxBytes: 1_000 });
    const coherence = new L1Coherence({ target: l1, now: () => 1e12 });
    coherence.up();
    expect(coherence.serving).toBe(true);
  });
});
