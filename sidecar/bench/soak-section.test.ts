import { describe, expect, it } from "vitest";
import { formatSoakSection, type SoakRun } from "./soak-section.js";
import { type CheckerTotals, DEFAULT_BOUNDS, judgeSoak, type SoakSample } from "./soak-verdict.js";

const MiB = 1024 * 1024;
const bounds = { ...DEFAULT_BOUNDS, l1Bytes: 64 * MiB };
const checker: CheckerTotals = {
  requests: 360_000,
  hits: 250_000,
  upstreamErrors: 120,
  cacheErrors: 0,
  wrong: 0,
  crossUser: 0,
  stale: 0,
  examples: [],
};
const samples = (rssMiB: number): SoakSample[] =>
  Array.from({ length: 600 }, (_, i) => ({
    at: i * 3_000,
    rssBytes: rssMiB * MiB,
    rssAnonBytes: (rssMiB - 40) * MiB,
    heapUsedBytes: 40 * MiB,
    fds: 45,
    sockets: 25,
    loopP99Ms: 2,
    l1Bytes: 64 * MiB,
  }));
const faults = [{ kind: "redis-killed", at: 180_000, until: 183_000, recoverMs: 900 }];

function section(rssMiB: number): string {
  const verdict = judgeSoak({ samples: samples(rssMiB), runMs: 1_800_000, faults, checker, bounds });
  const run: SoakRun = {
    date: "2026-12-07T00:00:00Z",
    machine: "2 CPUs",
    command: "make soak SOAK_MINUTES=30",
    minutes: 30,
    samples: 600,
    sampleEverySeconds: 3,
    rate: 200,
    achievedRate: 199.5,
    clients: 8,
    items: 5000,
    bodyBytes: 16384,
    faultEverySeconds: 180,
    faults,
    checker,
    bounds,
    verdict,
    plot: "soak.svg",
    sidecarLog: "none",
  };
  return formatSoakSection(run);
}

describe("the soak's results section", () => {
  describe("when every figure is within its bound", () => {
    const text = section(120);
    it("says the run passed and marks every judged row ok", () => {
      expect(text).toContain("**Verdict: pass.**");
      expect(text).not.toContain("FAIL");
      expect(text).toMatch(
        /\| RSS, max over the run \| 120\.0 MiB \| 90% of the injected limit \(2 × L1 64 MiB \+ 160 MiB\) = 259\.2 MiB \| ok \|/,
      );
    });

    it("lists the faults with their recovery and links the plot", () => {
      expect(text).toContain("| 1 | redis-killed | 3.0 min | 3.0 s | 900 ms |");
      expect(text).toContain("](soak.svg)");
    });

    it("gives the checker's counts, the ones that must be 0 in bold", () => {
      expect(text).toContain("**0 errors the cache caused, 0 wrong, 0 cross-user, 0 stale**");
    });
  });

  describe("when RSS is over the bound", () => {
    it("says the run failed, why, and marks the row", () => {
      const text = section(270);
      expect(text).toContain("**Verdict: FAIL.**\n- RSS reached 270.0 MiB");
      expect(text).toMatch(/\| RSS, max over the run \| 270\.0 MiB \|.*\| \*\*FAIL\*\* \|/);
    });
  });
});
