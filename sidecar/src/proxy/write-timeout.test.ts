import { describe, expect, it } from "vitest";
import { judgeWrites, sweepInterval, type WriteProgress } from "./write-timeout.js";

/** The socket as a sweep sees it; `queued` (bytes of the write in flight, still in libuv) defaults to 0. */
interface SocketCounts {
  readonly pending: number;
  readonly dispatched: number;
  readonly queued?: number;
}

describe("judgeWrites", () => {
  const timeout = 1_000;
  const sweep = (
    previous: WriteProgress | undefined,
    { pending, dispatched, queued = 0 }: SocketCounts,
    now: number,
  ) => judgeWrites(previous, { pending, dispatched, queued }, now, timeout);
  const progress = (verdict: ReturnType<typeof judgeWrites>) =>
    verdict.kind === "waiting" ? verdict.progress : undefined;

  it("leaves alone a connection with nothing waiting, however long it has been quiet", () => {
    const stalled = { dispatched: 10, queued: 0, since: 0, due: true };
    expect(sweep(stalled, { pending: 0, dispatched: 10 }, 60_000)).toEqual({ kind: "idle" });
  });

  it("cuts a reader that took nothing for the timeout, one sweep after the deadline", () => {
    const first = progress(sweep(undefined, { pending: 500, dispatched: 10 }, 0));
    expect(first).toEqual({ dispatched: 10, queued: 0, since: 0, due: false });
    const before = progress(sweep(first, { pending: 500, dispatched: 10 }, 999));
    expect(before).toEqual(first);
    const due = progress(sweep(before, { pending: 500, dispatched: 10 }, 1_000));
    expect(due).toEqual({ dispatched: 10, queued: 0, since: 0, due: true });
    expect(sweep(due, { pending: 500, dispatched: 10 }, 1_250)).toEqual({ kind: "cut" });
  });

  it("restarts the clock on any progress, even after the deadline was reached", () => {
    const due = { dispatched: 10, queued: 0, since: 0, due: true };
    expect(progress(sweep(due, { pending: 500, dispatched: 11 }, 5_000))).toEqual({
      dispatched: 11,
      queued: 0,
      since: 5_000,
      due: false,
    });
  });

  it("counts the kernel taking part of the one write in flight as progress (a cached body is one write)", () => {
    const due = { dispatched: 0, queued: 6_000, since: 0, due: true };
    expect(progress(sweep(due, { pending: 8_000, dispatched: 0, queued: 4_000 }, 5_000))).toEqual({
      dispatched: 0,
      queued: 4_000,
      since: 5_000,
      due: false,
    });
    expect(sweep({ ...due, queued: 4_000 }, { pending: 8_000, dispatched: 0, queued: 4_000 }, 5_000)).toEqual(
      { kind: "cut" },
    );
  });

  it("sweeps a quarter of the timeout apart, within 10 ms and 1 s", () => {
    expect([sweepInterval(20), sweepInterval(300), sweepInterval(30_000)]).toEqual([10, 75, 1_000]);
  });
});
