import { describe, expect, it } from "vitest";
import { LaneGate } from "./lane-gate.js";

describe("a lane gate", () => {
  it("admits up to its limit at once, then queues in arrival order", async () => {
    const gate = new LaneGate(2);
    const a = await gate.acquire(1_000);
    const b = await gate.acquire(1_000);
    expect(gate.tryAcquire()).toBeUndefined();
    const order: string[] = [];
    const c = gate.acquire(1_000).then((slot) => {
      order.push("c");
      return slot;
    });
    const d = gate.acquire(1_000).then((slot) => {
      order.push("d");
      return slot;
    });
    expect(gate.waiting).toBe(2);
    a?.release();
    a?.release(); // idempotent: admits one waiter only
    expect(await c).toBeDefined();
    expect(gate.waiting).toBe(1);
    b?.release();
    expect(await d).toBeDefined();
    expect(order).toEqual(["c", "d"]);
    expect(gate.held).toBe(2);
  });

  it("gives up a wait at its deadline, and the slot later freed goes to no one", async () => {
    const gate = new LaneGate(1);
    const held = gate.tryAcquire();
    const started = performance.now();
    expect(await gate.acquire(30)).toBeUndefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(gate.waiting).toBe(0);
    held?.release();
    expect(gate.held).toBe(0);
  });
});
