import { describe, expect, it } from "vitest";
import { backoffDelay } from "../backoff.js";
import { FakeClock } from "../clock.js";
import { runWorkers, WorkQueue } from "./work-queue.js";

const backoff = { baseMs: 100, maxMs: 1_000 };
const newQueue = (clock = new FakeClock()) => ({ clock, queue: new WorkQueue({ clock, backoff }) });
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("the work queue", () => {
  it("deduplicates a key added several times while waiting", async () => {
    const { queue } = newQueue();
    queue.add("a");
    queue.add("b");
    queue.add("a");
    expect(queue.depth()).toBe(2);
    expect([await queue.get(), await queue.get()]).toEqual(["a", "b"]);
  });

  it("never hands a key being processed to a second worker; it comes back after done", async () => {
    const { queue } = newQueue();
    queue.add("a");
    const first = await queue.get();
    queue.add("a");
    expect(queue.depth()).toBe(0);
    let second: string | undefined;
    void queue.get().then((key) => (second = key));
    await flush();
    expect(second).toBeUndefined();
    queue.done(first as string);
    await flush();
    expect(second).toBe("a");
  });

  it("backs off per key, exponentially, and forget resets it", () => {
    const { queue, clock } = newQueue();
    expect([queue.addRateLimited("a"), queue.addRateLimited("a"), queue.addRateLimited("a")]).toEqual([
      100, 200, 400,
    ]);
    expect(queue.addRateLimited("b")).toBe(100);
    queue.forget("a");
    expect(queue.addRateLimited("a")).toBe(100);
    expect(queue.depth()).toBe(2);
    clock.advance(99);
    expect(queue.depth()).toBe(2);
    clock.advance(1);
    expect(queue.depth()).toBe(2); // both now queued, no longer delayed
  });

  it("caps the backoff and adds jitter within bounds", () => {
    expect(backoffDelay(20, backoff)).toBe(1_000);
    expect(backoffDelay(1, { ...backoff, jitter: 0.5, random: () => 1 })).toBe(300);
  });

  it("keeps the earliest of two delayed adds", () => {
    const { queue, clock } = newQueue();
    queue.addAfter("a", 500);
    queue.addAfter("a", 100);
    queue.addAfter("a", 900);
    clock.advance(100);
    expect(queue.depth()).toBe(1);
    clock.advance(1_000);
    expect(queue.depth()).toBe(1);
  });

  it("runs workers that retry failures with backoff and never overlap on a key", async () => {
    const { queue, clock } = newQueue();
    const running = new Set<string>();
    let overlap = false;
    let calls = 0;
    const errors: number[] = [];
    const done = runWorkers(
      queue,
      3,
      async (key) => {
        if (running.has(key)) overlap = true;
        running.add(key);
        calls += 1;
        await flush();
        queue.add(key); // an event arriving mid-reconcile
        running.delete(key);
        if (calls < 3) throw new Error("transient");
        return "done";
      },
      (_key, _error, retryInMs) => errors.push(retryInMs),
    );
    queue.add("a");
    for (let i = 0; i < 20; i++) {
      await flush();
      clock.advance(1_000);
    }
    queue.shutDown();
    await done;
    expect(overlap).toBe(false);
    expect(errors).toEqual([100, 200]);
    expect(calls).toBeGreaterThanOrEqual(3);
  });
});
