import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CacheEntry } from "../http-cache/entry.js";
import { Coalescer } from "./coalescer.js";
import type { FillResult } from "./context.js";
import type { LateFill } from "./cross-pod.js";
import { FlightSettlement, firstAnswer } from "./fill-settle.js";
import type { StoreOutcome } from "./fill-store.js";

const entry: FillResult = {
  kind: "entry",
  entry: { status: 200 } as CacheEntry,
  stored: true,
  fwd: "uri-miss",
};

function leading(storeWaitMs = 60_000) {
  const coalescer = new Coalescer<FillResult>();
  const flight = coalescer.lead("k", ["t"]);
  const settle = new FlightSettlement(flight, storeWaitMs);
  const events: string[] = [];
  settle.releaseAfter(async () => {
    events.push(coalescer.current("k") ? "released while the flight is on" : "released after it ended");
  });
  return { coalescer, flight, settle, events };
}

describe("settling a fill's flight", () => {
  describe("when the answer is stored", () => {
    /** A store whose verdict the test gives. */
    const verdict = () => {
      let give!: (outcome: StoreOutcome) => void;
      const storing = new Promise<StoreOutcome>((resolve) => {
        give = resolve;
      });
      return { storing, give };
    };
    const settledYet = async (result: Promise<FillResult>): Promise<boolean> => {
      let settled = false;
      void result.then(() => {
        settled = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      return settled;
    };

    it("answers the leader at once, wakes the waiters on the store's verdict, then ends and releases", async () => {
      const { coalescer, flight, settle, events } = leading();
      const { storing, give } = verdict();
      expect(settle.finish({ result: entry }, storing).result).toBe(entry);
      expect(flight.storeSent).toBe(true);
      expect(await settledYet(flight.result)).toBe(false);
      expect(coalescer.current("k")).toBe(flight);
      expect(events).toEqual([]);
      give("stored");
      await expect(flight.result).resolves.toBe(entry);
      await storing;
      await Promise.resolve();
      expect(coalescer.current("k")).toBeUndefined();
      expect(events).toEqual(["released after it ended"]);
    });

    it("tells the waiters to ask again when the fence refused the entry, and hands watches nothing", async () => {
      const { coalescer, flight, settle } = leading();
      const watch = coalescer.watch("k");
      const { storing, give } = verdict();
      settle.finish({ result: entry }, storing);
      give("refused");
      // The answer goes along, not stored, for the waiters that arrived after the fill began.
      await expect(flight.result).resolves.toEqual({
        kind: "superseded",
        answer: { ...entry, stored: false, reason: "invalidated-during-fetch" },
      });
      await Promise.resolve();
      expect(coalescer.current("k")).toBeUndefined();
      expect(watch.ended()).toBeUndefined();
    });

    it("hands the answer to watches opened before the store was sent, not to later ones", async () => {
      const { coalescer, settle } = leading();
      const before = coalescer.watch("k");
      const { storing, give } = verdict();
      settle.finish({ result: entry }, storing);
      const after = coalescer.watch("k");
      give("stored");
      await storing;
      await Promise.resolve();
      expect(before.ended()).toBe(entry);
      expect(after.ended()).toBeUndefined();
    });

    it("lets the waiters take the answer when the store has no verdict within the wait (Redis gone)", async () => {
      const { coalescer, flight, settle } = leading(5);
      const { storing, give } = verdict();
      settle.finish({ result: entry }, storing);
      await expect(flight.result).resolves.toBe(entry);
      expect(coalescer.current("k")).toBe(flight);
      give("failed");
      await storing;
      await Promise.resolve();
      expect(coalescer.current("k")).toBeUndefined();
    });
  });

  describe("when a second answer arrives (a peer's late fill won)", () => {
    it("keeps the first answer and drops the second one's stream", async () => {
      const { flight, settle } = leading();
      settle.finish({ result: entry });
      const body = new PassThrough();
      const second = { result: { kind: "pass" } as const, stream: { body } as never };
      expect(settle.finish(second)).toBe(second);
      await expect(flight.result).resolves.toBe(entry);
      expect(body.destroyed).toBe(true);
    });
  });

  describe("when the fill throws before answering", () => {
    it("lets the waiters fetch for themselves (pass) and ends the flight", async () => {
      const { coalescer, flight, settle, events } = leading();
      settle.abandon();
      await expect(flight.result).resolves.toEqual({ kind: "pass" });
      expect(coalescer.current("k")).toBeUndefined();
      expect(events).toEqual(["released after it ended"]);
    });

    it("changes nothing once the flight was settled", async () => {
      const { flight, settle, events } = leading();
      settle.finish({ result: entry });
      settle.abandon();
      await expect(flight.result).resolves.toBe(entry);
      expect(events).toEqual(["released after it ended"]);
    });
  });
});

describe("the first answer between this pod's fill and a late peer's", () => {
  it("takes the peer's entry when it lands first, and cancels the wait once the own fill is done", async () => {
    const { flight, settle } = leading();
    let cancelled = 0;
    const late: LateFill = { landed: Promise.resolve(entry), cancel: () => cancelled++ };
    let own!: (outcome: { result: FillResult }) => void;
    const owning = new Promise<{ result: FillResult }>((resolve) => {
      own = resolve;
    });
    const first = await firstAnswer(owning, late, settle);
    expect(first.result).toBe(entry);
    await expect(flight.result).resolves.toBe(entry);
    expect(cancelled).toBe(0);
    own({ result: { kind: "error", reason: "timeout" } });
    await owning;
    await Promise.resolve();
    expect(cancelled).toBe(1);
  });
});
