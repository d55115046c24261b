import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { CacheStore } from "../store/types.js";
import { createMetrics } from "../telemetry/metrics.js";
import { Coalescer } from "./coalescer.js";
import { Invalidator } from "./invalidator.js";

/** A tiny in-memory CacheStore fake with a tag index. */
function fakeStore(): CacheStore & { data: Map<string, { tags: readonly string[] }> } {
  const data = new Map<string, { tags: readonly string[] }>();
  return {
    name: "fake",
    data,
    get: async () => undefined,
    set: async (key, _value, options) => {
      data.set(key, { tags: options.tags });
      return true;
    },
    fence: async (tags) => ({ tags, takenAt: 0 }),
    delete: async (keys) => keys.filter((key) => data.delete(key)).length,
    deleteTags: async (tags) => {
      const doomed = [...data].filter(([, entry]) => entry.tags.some((tag) => tags.includes(tag)));
      for (const [key] of doomed) data.delete(key);
      return doomed.length;
    },
    health: () => ({ ok: true }),
    close: async () => undefined,
  };
}

describe("the coalescer", () => {
  describe("while isolated (the pod may miss other pods' invalidations)", () => {
    it("hands no request a flight or an ended flight's result, and does again once it is not", () => {
      const coalescer = new Coalescer<string>();
      const lead = coalescer.lead("k", ["t"]);
      const watch = coalescer.watch("k");
      coalescer.isolate(true);
      expect(coalescer.current("k")).toBeUndefined();
      lead.resolve("old");
      lead.end();
      expect(watch.ended()).toBeUndefined();
      coalescer.isolate(false);
      const next = coalescer.lead("k", ["t"]);
      expect(coalescer.current("k")).toBe(next);
    });
  });

  it("detaches every flight at once", () => {
    const coalescer = new Coalescer<string>();
    coalescer.lead("a", ["t"]);
    coalescer.lead("b", []);
    coalescer.detachAll();
    expect([coalescer.current("a"), coalescer.current("b"), coalescer.size]).toEqual([
      undefined,
      undefined,
      0,
    ]);
  });

  it("hands later requests the leader's flight and wakes them with its result", async () => {
    const coalescer = new Coalescer<string>();
    const lead = coalescer.lead("k", []);
    const joined = coalescer.current("k");
    expect(joined).toBe(lead);
    lead.resolve("done");
    await expect(joined?.result).resolves.toBe("done");
    lead.end();
    expect(coalescer.current("k")).toBeUndefined();
  });

  it("detaches flights by key or tag, so later requests start afresh", () => {
    const coalescer = new Coalescer<string>();
    const a = coalescer.lead("a", ["slots"]);
    coalescer.lead("b", ["other"]);
    coalescer.detach(new Set(), new Set(["slots"]));
    expect(coalescer.current("a")).toBeUndefined();
    expect(coalescer.current("b")).toBeDefined();
    a.end(); // ending a detached flight leaves a newer one alone
    const newer = coalescer.lead("a", ["slots"]);
    a.end();
    expect(coalescer.current("a")).toBe(newer);
  });

  it("never registers a solo flight", () => {
    const coalescer = new Coalescer<string>();
    coalescer.solo("k", []);
    expect(coalescer.size).toBe(0);
  });
});

describe("the invalidator", () => {
  const setup = () => {
    const store = fakeStore();
    const coalescer = new Coalescer<unknown>();
    const invalidator = new Invalidator({
      store,
      coalescer,
      metrics: createMetrics(),
      log: pino({ level: "silent" }),
    });
    return { store, coalescer, invalidator };
  };

  it("drops entries by tag and key and counts them", async () => {
    const { store, invalidator } = setup();
    await store.set("k1", Buffer.alloc(0), { ttlMs: 1000, tags: ["slots"] });
    await store.set("k2", Buffer.alloc(0), { ttlMs: 1000, tags: ["other"] });
    await store.set("k3", Buffer.alloc(0), { ttlMs: 1000, tags: [] });
    const removed = await invalidator.invalidate({
      policy: "p",
      source: "admin",
      rules: ["admin"],
      tags: ["slots"],
      keys: ["k3"],
    });
    expect(removed).toBe(2);
    expect([...store.data.keys()]).toEqual(["k2"]);
  });

  it("tells a fill whether its key or tags were invalidated after it started", async () => {
    const { invalidator } = setup();
    const started = invalidator.seq;
    expect(invalidator.invalidatedSince(started, "k", ["slots"])).toBe(false);
    await invalidator.invalidate({ policy: "p", source: "write", rules: ["r"], tags: ["other"], keys: [] });
    expect(invalidator.invalidatedSince(started, "k", ["slots"])).toBe(false);
    await invalidator.invalidate({ policy: "p", source: "write", rules: ["r"], tags: ["slots"], keys: [] });
    expect(invalidator.invalidatedSince(started, "k", ["slots"])).toBe(true);
    expect(invalidator.invalidatedSince(invalidator.seq, "k", ["slots"])).toBe(false);
  });

  it("assumes the worst for a fill older than what it remembers", async () => {
    const { invalidator } = setup();
    const started = invalidator.seq;
    for (let i = 0; i < 600; i++)
      await invalidator.invalidate({ policy: "p", source: "write", rules: ["r"], tags: [`t${i}`], keys: [] });
    expect(invalidator.invalidatedSince(started, "k", ["unrelated"])).toBe(true);
  });

  it("detaches in-flight fills it concerns", async () => {
    const { coalescer, invalidator } = setup();
    coalescer.lead("k", ["slots"]);
    await invalidator.invalidate({ policy: "p", source: "write", rules: ["r"], tags: ["slots"], keys: [] });
    expect(coalescer.current("k")).toBeUndefined();
  });
});

describe("a watch around a store read", () => {
  it("receives the result of a flight that started and ended during the read", () => {
    const coalescer = new Coalescer<string>();
    const watch = coalescer.watch("k");
    const flight = coalescer.lead("k", []);
    flight.resolve("stored entry");
    flight.end();
    expect(coalescer.current("k")).toBeUndefined();
    expect(watch.ended()).toBe("stored entry");
    watch.close();
  });

  it("receives nothing from a flight of another key, a solo flight, or one that ended before it", () => {
    const coalescer = new Coalescer<string>();
    const before = coalescer.lead("k", []);
    before.resolve("old");
    before.end();
    const watch = coalescer.watch("k");
    const other = coalescer.lead("other", []);
    other.resolve("x");
    other.end();
    const solo = coalescer.solo("k", []);
    solo.resolve("solo");
    solo.end();
    expect(watch.ended()).toBeUndefined();
    watch.close();
  });

  it("loses a result that an invalidation concerns, and never gets one from a detached flight", () => {
    const coalescer = new Coalescer<string>();
    const watch = coalescer.watch("k");
    const first = coalescer.lead("k", ["slots"]);
    first.resolve("pre-write");
    first.end();
    coalescer.detach(new Set(), new Set(["slots"]));
    expect(watch.ended()).toBeUndefined();
    const second = coalescer.lead("k", ["slots"]);
    coalescer.detach(new Set(["k"]), new Set());
    second.resolve("maybe pre-write");
    second.end();
    expect(watch.ended()).toBeUndefined();
    watch.close();
  });

  it("holds nothing once closed", () => {
    const coalescer = new Coalescer<string>();
    coalescer.watch("k").close();
    const flight = coalescer.lead("k", []);
    flight.resolve("r");
    flight.end();
    const late = coalescer.watch("k");
    expect(late.ended()).toBeUndefined();
    late.close();
  });
});
