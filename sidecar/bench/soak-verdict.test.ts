import { describe, expect, it } from "vitest";
import {
  type CheckerTotals,
  DEFAULT_BOUNDS,
  type FaultMark,
  fitLine,
  judgeSoak,
  type SoakBounds,
  type SoakSample,
} from "./soak-verdict.js";

const MiB = 1024 * 1024;
const MINUTE = 60_000;
const RUN = 30 * MINUTE;
const bounds: SoakBounds = { ...DEFAULT_BOUNDS, l1Bytes: 64 * MiB };
const clean: CheckerTotals = {
  requests: 1000,
  hits: 800,
  upstreamErrors: 3,
  cacheErrors: 0,
  wrong: 0,
  crossUser: 0,
  stale: 0,
  examples: [],
};

/** A sample every 3 s over the run: L1 full after 2 minutes, everything else from `shape`. */
function run(shape: (at: number) => Partial<SoakSample> = () => ({})): SoakSample[] {
  const samples: SoakSample[] = [];
  for (let at = 0; at <= RUN; at += 3_000)
    samples.push({
      at,
      rssBytes: 110 * MiB + ((at / 3_000) % 5) * MiB,
      rssAnonBytes: 70 * MiB,
      heapUsedBytes: 40 * MiB,
      fds: 30 + ((at / 3_000) % 3),
      sockets: 20 + ((at / 3_000) % 3),
      loopP99Ms: 1.5,
      l1Bytes: Math.min(64 * MiB, (at / (2 * MINUTE)) * 64 * MiB),
      ...shape(at),
    });
  return samples;
}

const judge = (samples: SoakSample[], more: { checker?: CheckerTotals; faults?: FaultMark[] } = {}) =>
  judgeSoak({ samples, runMs: RUN, faults: more.faults ?? [], checker: more.checker ?? clean, bounds });

describe("fitLine", () => {
  it("finds the slope and intercept of points on a line", () => {
    const line = fitLine([0, 1, 2, 3], [5, 7, 9, 11]);
    expect(line.slope).toBeCloseTo(2);
    expect(line.intercept).toBeCloseTo(5);
  });

  it("gives a flat line for one point or none", () => {
    expect(fitLine([4], [9]).slope).toBe(0);
    expect(fitLine([], []).slope).toBe(0);
  });
});

describe("the soak's verdict", () => {
  describe("when memory and descriptors saw-tooth around a level and nothing went wrong", () => {
    it("passes with no problem", () => {
      const verdict = judge(run());
      expect(verdict.problems).toEqual([]);
      expect(verdict.ok).toBe(true);
      expect(verdict.figures.warmUpEndMs).toBe(6 * MINUTE);
    });
  });

  describe("when L1 fills only after the first 20% of the run", () => {
    it("measures from the moment L1 is full (filling it is not growth)", () => {
      const verdict = judge(
        run((at) => ({
          l1Bytes: at >= 10 * MINUTE ? 64 * MiB : 0,
          rssBytes: 100 * MiB + Math.min(at, 10 * MINUTE) * 10,
        })),
      );
      expect(verdict.figures.warmUpEndMs).toBe(10 * MINUTE);
      expect(verdict.ok).toBe(true);
    });
  });

  describe("when L1 never fills", () => {
    it("fails: the run did not exercise eviction", () => {
      expect(judge(run(() => ({ l1Bytes: 10 * MiB }))).problems.join()).toMatch(/L1 never held 90%/);
    });
  });

  describe("when RSS climbs steadily after the warm-up", () => {
    it("fails on the fitted slope even while under the RSS bound", () => {
      // 20 MiB/h: 10 MiB over a 30-minute run, more than the 8 MiB bound.
      const verdict = judge(run((at) => ({ rssBytes: 100 * MiB + (at / 3_600_000) * 20 * MiB })));
      expect(verdict.figures.rssSlopeMiBPerHour).toBeCloseTo(20, 0);
      expect(verdict.problems).toEqual([expect.stringMatching(/RSS grows 20\.0 MiB\/h/)]);
    });

    it("tolerates a slope whose projection stays within the noise floor", () => {
      const verdict = judge(run((at) => ({ rssBytes: 100 * MiB + (at / 3_600_000) * 12 * MiB })));
      expect(verdict.ok).toBe(true);
    });
  });

  describe("when RSS goes over 90% of the injected memory limit (2 × 64 MiB + 160 MiB) once", () => {
    it("fails on the maximum", () => {
      const verdict = judge(run((at) => (at === 15 * MINUTE ? { rssBytes: 260 * MiB } : {})));
      expect(verdict.figures.rssBoundMiB).toBeCloseTo(259.2, 5);
      expect(verdict.problems).toEqual([
        expect.stringMatching(/RSS reached 260\.0 MiB: over 90% of the injected/),
      ]);
    });
  });

  describe("when a descriptor leaks at every fault", () => {
    it("fails on descriptors and sockets", () => {
      const leak = (at: number) => Math.floor(at / (3 * MINUTE));
      const verdict = judge(run((at) => ({ fds: 30 + leak(at), sockets: 20 + leak(at) })));
      expect(verdict.figures.fdsLastMax - verdict.figures.fdsFirstMax).toBeGreaterThan(4);
      expect(verdict.problems.filter((p) => /descriptors grow/.test(p))).toHaveLength(2);
      expect(verdict.problems.filter((p) => /sockets grow/.test(p))).toHaveLength(2);
    });
  });

  describe("when a fault closes connections for a moment just after the warm-up", () => {
    it("passes: a dip is not growth", () => {
      const dip = (at: number) => at >= 6 * MINUTE && at < 7 * MINUTE;
      const verdict = judge(run((at) => (dip(at) ? { fds: 5, sockets: 2 } : {})));
      expect(verdict.problems).toEqual([]);
    });
  });

  describe("when descriptors rise for one fault and fall back", () => {
    it("passes", () => {
      const verdict = judge(
        run((at) => (at > 15 * MINUTE && at < 16 * MINUTE ? { fds: 60, sockets: 50 } : {})),
      );
      expect(verdict.ok).toBe(true);
    });
  });

  describe("when one sample window's event-loop p99 is over 10 ms", () => {
    it("fails, naming the worst window", () => {
      const verdict = judge(run((at) => (at === 20 * MINUTE ? { loopP99Ms: 12.5 } : {})));
      expect(verdict.problems).toEqual([expect.stringMatching(/p99 reached 12\.5 ms/)]);
      expect(verdict.figures.loopWindowsOver).toBe(1);
      expect(verdict.figures.loopP99MedianMs).toBe(1.5);
    });
  });

  describe("when the checker saw a stale, cross-user, wrong or cache-caused answer", () => {
    it.each([
      ["cacheErrors", /1 errors the cache caused/],
      ["wrong", /1 wrong answers/],
      ["crossUser", /1 cross-user answers/],
      ["stale", /1 stale reads/],
    ] as const)("fails on %s", (field, message) => {
      const verdict = judge(run(), { checker: { ...clean, [field]: 1 } });
      expect(verdict.problems).toEqual([expect.stringMatching(message)]);
    });
  });

  describe("when a fault could not be injected or did not recover", () => {
    it("fails naming each", () => {
      const faults: FaultMark[] = [
        { kind: "redis-killed", at: 3 * MINUTE, until: 3 * MINUTE + 3_000, recoverMs: 400 },
        { kind: "upstream-killed", at: 6 * MINUTE, until: 6 * MINUTE + 3_000, recoverMs: undefined },
        {
          kind: "policy-reloaded",
          at: 9 * MINUTE,
          until: 9 * MINUTE,
          recoverMs: undefined,
          problem: "timed out",
        },
      ];
      const problems = judge(run(), { faults }).problems;
      expect(problems).toEqual([
        "fault upstream-killed at 360 s: no fresh cache hit after it",
        "fault policy-reloaded at 540 s: timed out",
      ]);
    });
  });
});
