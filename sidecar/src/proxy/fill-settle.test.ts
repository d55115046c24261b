import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CacheEntry } from "../http-cache/entry.js";
import { Coalescer } from "./coalescer.js";
import type { FillResult } from "./context.js";
import type { LateFill } from "./cross-pod.js";
import { FlightSettlement, firstAnswer } from "./fill-settle.js";

const entry: FillResult = {
  kind: "entry",
  entry: { status: 200 } as CacheEntry,
  stored: true,
  fwd: "uri-miss",
};

function leading() {
  const coalescer = new Coalescer<FillResult>();
  const flight = coalescer.lead("k", ["t"]);
  const settle = new FlightSettlement(flight);
  const events: string[] = [];
  settle.releaseAfter(async () => {
    events.push(coalescer.current("k") ? "released while the flight is on" : "released after it ended");
  });
  return { coalescer, flight, settle, events };
}

describe("settling a fill's flight", () => {
  describe("when the answer is stored", () => {
    it("wakes the waiters at once, ends the flight once stored, and releases the lease after that", async () => {
      const { coalescer, flight, settle, events } = leading();
      let stored!: () => void;
      const storing = new Promise<void>((resolve) => {
        stored = resolve;
      });
      settle.finish({ result: entry }, storing);
      await expect(flight.result).resolves.toBe(entry);
      expect(coalescer.current("k")).toBe(flight);
      expect(events).toEqual([]);
      stored();
      await storing;
      await Promise.resolve();
      expect(coalescer.current("k")).toBeUndefined();
      expect(events).toEqual(["released after it ended"]);
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
