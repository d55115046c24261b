import { afterEach, describe, expect, it, vi } from "vitest";
import { FailoverHorizonStore, type PrimaryEpoch, type PrimaryEpochProbe } from "./failover-horizon-store.js";
import type { EntryStore, Fence, SetOptions, StoredEntry } from "./types.js";

/** An L2 whose entries carry the write times the test gives them. */
function fakeInner() {
  const entries = new Map<string, StoredEntry>();
  const sets: string[] = [];
  const inner: EntryStore = {
    name: "redis-sentinel",
    get: async (key) => entries.get(key)?.value,
    getEntry: async (key) => entries.get(key),
    set: async (key: string, value: Buffer, _options: SetOptions) => {
      sets.push(key);
      entries.set(key, { value, ttlMs: 60_000, tags: [], writtenAt: Date.now() });
      return true;
    },
    fence: async (tags) => ({ tags, generations: [], takenAt: performance.now() }),
    delete: async () => 0,
    deleteTags: async () => 0,
    health: () => ({ ok: true }),
    stats: () => ({}),
    close: async () => {},
  };
  const put = (key: string, writtenAt: number) =>
    entries.set(key, { value: Buffer.from(key), ttlMs: 60_000, tags: [], writtenAt });
  return { inner, put, sets };
}

/** A probe the test drives: `connect()` is a (re)connect, `answer()` settles its check. */
function fakeProbe() {
  let listener = () => {};
  let settle: { resolve: (epoch: PrimaryEpoch) => void; reject: (error: Error) => void } | undefined;
  const previousSeen: (string | undefined)[] = [];
  let shared = 0;
  const probe: PrimaryEpochProbe = {
    onReady: (l) => {
      listener = l;
    },
    check: (previous) => {
      previousSeen.push(previous);
      return new Promise((resolve, reject) => {
        settle = { resolve, reject };
      });
    },
    read: async () => shared,
  };
  return {
    probe,
    previousSeen,
    connect: () => listener(),
    answer: async (epoch: PrimaryEpoch) => {
      settle?.resolve(epoch);
      await Promise.resolve();
    },
    fail: async (error: Error) => {
      settle?.reject(error);
      await Promise.resolve();
    },
    setShared: (horizon: number) => {
      shared = horizon;
    },
  };
}

const open: FailoverHorizonStore[] = [];
function storeWith(inner: EntryStore, probe: PrimaryEpochProbe, refreshMs = 1_000) {
  const store = new FailoverHorizonStore(inner, { probe, commandTimeoutMs: 50, refreshMs, skewMs: 1_000 });
  open.push(store);
  return store;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((store) => store.close()));
});

describe("FailoverHorizonStore", () => {
  describe("when the check after a connect names a horizon", () => {
    it("answers entries written before it as misses, and later ones as they are", async () => {
      const { inner, put } = fakeInner();
      const epoch = fakeProbe();
      const store = storeWith(inner, epoch.probe);
      const horizon = Date.now();
      put("before", horizon - 1);
      put("after", horizon + 1);
      epoch.connect();
      await epoch.answer({ replid: "r1", horizon });
      expect(await store.getEntry("before")).toBeUndefined();
      expect((await store.getEntry("after"))?.value).toEqual(Buffer.from("after"));
      expect(store.horizon).toBe(horizon);
    });

    it("tells the next check which primary it was on", async () => {
      const { inner } = fakeInner();
      const epoch = fakeProbe();
      storeWith(inner, epoch.probe);
      epoch.connect();
      await epoch.answer({ replid: "r1", horizon: 0 });
      epoch.connect();
      await epoch.answer({ replid: "r2", horizon: 5 });
      expect(epoch.previousSeen).toEqual([undefined, "r1"]);
    });
  });

  describe("before the first connect", () => {
    it("holds reads and writes until its check is done, so nothing is written before the horizon", async () => {
      const { inner, sets } = fakeInner();
      const epoch = fakeProbe();
      const store = storeWith(inner, epoch.probe);
      const write = store.set("k", Buffer.from("v"), { ttlMs: 1_000, tags: [] });
      await Promise.resolve();
      expect(sets).toEqual([]);
      epoch.connect();
      await epoch.answer({ replid: "r1", horizon: Date.now() });
      await write;
      expect((await store.getEntry("k"))?.value).toEqual(Buffer.from("v"));
    });
  });

  describe("while the check after a reconnect is in flight", () => {
    it("holds reads until it is done", async () => {
      const { inner, put } = fakeInner();
      const epoch = fakeProbe();
      const store = storeWith(inner, epoch.probe);
      put("old", Date.now() - 10_000);
      epoch.connect();
      const read = store.getEntry("old");
      await epoch.answer({ replid: "r2", horizon: Date.now() });
      expect(await read).toBeUndefined();
    });

    it("holds a read sent before the reconnect and answered after it (ioredis resends it to the new primary)", async () => {
      const { inner, put } = fakeInner();
      const epoch = fakeProbe();
      const store = storeWith(inner, epoch.probe);
      epoch.connect();
      await epoch.answer({ replid: "r1", horizon: 0 });
      put("old", Date.now() - 10_000);
      let reply: (entry: StoredEntry | undefined) => void = () => {};
      const held = inner.getEntry;
      inner.getEntry = (key) => {
        const entry = held(key);
        return new Promise((resolve) => {
          reply = () => void entry.then(resolve);
        });
      };
      const read = store.getEntry("old");
      await Promise.resolve();
      epoch.connect();
      reply(undefined); // the resent GET's answer comes before the check's script (sent after INFO's)
      await new Promise(setImmediate);
      await epoch.answer({ replid: "r2", horizon: Date.now() });
      expect(await read).toBeUndefined();
    });

    it("fails a read with APICACHE_ERR_STORE_TIMEOUT when it outlasts the command timeout", async () => {
      const { inner, put } = fakeInner();
      const epoch = fakeProbe();
      const store = storeWith(inner, epoch.probe);
      put("old", Date.now() - 10_000);
      epoch.connect();
      await expect(store.getEntry("old")).rejects.toMatchObject({ code: "APICACHE_ERR_STORE_TIMEOUT" });
    });
  });

  describe("when the check fails", () => {
    it("distrusts every entry written before now plus the clock allowance", async () => {
      const { inner, put } = fakeInner();
      const epoch = fakeProbe();
      const store = storeWith(inner, epoch.probe);
      put("recent", Date.now() + 500);
      epoch.connect();
      await epoch.fail(new Error("NOPERM this user has no permissions to run the 'info' command"));
      expect(await store.getEntry("recent")).toBeUndefined();
    });
  });

  describe("when the check after a reconnect fails", () => {
    it("checks again within the refresh interval, so a failover it missed still moves the shared horizon", async () => {
      vi.useFakeTimers({ toFake: ["setInterval"] });
      const { inner } = fakeInner();
      const epoch = fakeProbe();
      const store = storeWith(inner, epoch.probe, 100);
      epoch.connect();
      await epoch.answer({ replid: "r1", horizon: 0 });
      epoch.connect();
      await epoch.fail(new Error("primary check timed out after 1000 ms"));
      await vi.advanceTimersByTimeAsync(100);
      expect(epoch.previousSeen).toEqual([undefined, "r1", "r1"]);
      const horizon = Date.now() + 5_000;
      await epoch.answer({ replid: "r2", horizon });
      expect(store.horizon).toBe(horizon);
      await vi.advanceTimersByTimeAsync(100);
      expect(epoch.previousSeen).toEqual([undefined, "r1", "r1"]);
    });
  });

  describe("a fill's write", () => {
    const fenceAt = (takenAt: number): Fence => ({ tags: [], generations: [], takenAt });

    it("is not stored when its fence was taken before the latest reconnect", async () => {
      const { inner, sets } = fakeInner();
      const epoch = fakeProbe();
      const store = storeWith(inner, epoch.probe);
      const fence = fenceAt(performance.now());
      epoch.connect();
      await epoch.answer({ replid: "r1", horizon: 0 });
      expect(await store.set("k", Buffer.from("v"), { ttlMs: 1_000, tags: [], fence })).toBe(false);
      expect(sets).toEqual([]);
    });

    it("is stored when its fence was taken on the current connection", async () => {
      const { inner, sets } = fakeInner();
      const epoch = fakeProbe();
      const store = storeWith(inner, epoch.probe);
      epoch.connect();
      await epoch.answer({ replid: "r1", horizon: 0 });
      const fence = await store.fence([]);
      expect(await store.set("k", Buffer.from("v"), { ttlMs: 1_000, tags: [], fence })).toBe(true);
      expect(sets).toEqual(["k"]);
    });
  });

  it("picks up a horizon another sidecar recorded, without reconnecting", async () => {
    vi.useFakeTimers({ toFake: ["setInterval"] });
    const { inner, put } = fakeInner();
    const epoch = fakeProbe();
    const store = storeWith(inner, epoch.probe, 100);
    epoch.connect();
    await epoch.answer({ replid: "r1", horizon: 0 });
    const horizon = Date.now();
    put("k", horizon - 1);
    expect(await store.getEntry("k")).toBeDefined();
    epoch.setShared(horizon);
    await vi.advanceTimersByTimeAsync(100);
    expect(await store.getEntry("k")).toBeUndefined();
  });
});
