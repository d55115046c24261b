import { describe, expect, it } from "vitest";
import { nextIoTurn } from "./io-turn.js";

describe("nextIoTurn", () => {
  it("resolves only after the next turn's check phase, so after that turn's poll", async () => {
    const order: string[] = [];
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        // In a check phase: the turn's first hop runs in the next one, with `next` scheduled after it.
        const turn = nextIoTurn().then(() => order.push("turn"));
        setImmediate(() => order.push("next turn's check"));
        void turn.then(() => resolve());
      }),
    );
    expect(order).toEqual(["next turn's check", "turn"]);
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
