import { describe, expect, it } from "vitest";
import { nextIoTurn } from "./io-turn.js";

describe("nextIoTurn", () => {
  it("resolves only after the loop went round once more (a due timer ran first)", async () => {
    const order: string[] = [];
    await new Promise<void>((resolve) => setImmediate(resolve)); // start from the check phase
    const timer = new Promise<void>((resolve) => setTimeout(() => resolve(void order.push("timer")), 0));
    await nextIoTurn().then(() => order.push("turn"));
    await timer;
    expect(order).toEqual(["timer", "turn"]);
  });

  describe("called again before its first hop ran", () => {
    it("shares the pending turn", () => {
      expect(nextIoTurn()).toBe(nextIoTurn());
    });
  });

  describe("called after its first hop ran", () => {
    it("waits for a turn of its own, which resolves later", async () => {
      const order: string[] = [];
      const first = nextIoTurn().then(() => order.push("first"));
      await new Promise<void>((resolve) => setImmediate(resolve)); // the first hop has run
      const second = nextIoTurn();
      const done = second.then(() => order.push("second"));
      await Promise.all([first, done]);
      expect(order).toEqual(["first", "second"]);
    });
  });
});
