import { describe, expect, it } from "vitest";
import { FakeClock } from "../clock.js";
import { TokenBucket } from "./write-limit.js";

/** Lets every settled promise chain run (the fake clock fires no real timer). */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("TokenBucket", () => {
  it("lets a burst through at once, then one take per 1/qps seconds, in call order", async () => {
    const clock = new FakeClock(1_000);
    const bucket = new TokenBucket(10, 3, clock);
    const done: number[] = [];
    for (let i = 0; i < 6; i++) void bucket.take().then(() => done.push(i));
    await flush();
    expect(done).toEqual([0, 1, 2]);
    clock.advance(99);
    await flush();
    expect(done).toEqual([0, 1, 2]);
    clock.advance(1);
    await flush();
    expect(done).toEqual([0, 1, 2, 3]);
    for (const _ of [1, 2]) {
      clock.advance(100);
      await flush();
    }
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("saves up no more than the burst while idle", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(100, 2, clock);
    clock.advance(60_000);
    const done: number[] = [];
    for (let i = 0; i < 3; i++) void bucket.take().then(() => done.push(i));
    await flush();
    expect(done).toEqual([0, 1]);
  });
});
