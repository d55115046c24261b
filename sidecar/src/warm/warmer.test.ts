import { describe, expect, it } from "vitest";
import { Slots } from "./warmer.js";

describe("Slots (the warmer's concurrency bound)", () => {
  it("runs at most `limit` tasks at once and every task in the end", async () => {
    const slots = new Slots(3);
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const tasks = Array.from({ length: 10 }, (_, i) =>
      slots.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return i;
      }),
    );
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    await settle();
    expect([running, releases.length]).toEqual([3, 3]);
    for (let released = 0; released < 10; released++) {
      releases.shift()?.();
      await settle();
      expect(running).toBeLessThanOrEqual(3);
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
  });

  it("frees the slot when a task throws", async () => {
    const slots = new Slots(1);
    await expect(slots.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await slots.run(async () => "next")).toBe("next");
  });
});
