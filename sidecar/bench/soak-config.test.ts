import { describe, expect, it } from "vitest";
import { parseSoakConfig } from "./soak-config.js";
import { paceMs, soakItemOf } from "./soak-load.js";

describe("make soak's flags", () => {
  it("defaults to 30 minutes, a sample every 3 s and a fault every 3 minutes", () => {
    const parsed = parseSoakConfig([]);
    expect(parsed.ok && parsed.config).toMatchObject({
      minutes: 30,
      sampleEverySeconds: 3,
      faultEverySeconds: 180,
      l1MiB: 64,
      write: true,
    });
  });

  it("brings faults closer in a short run so each kind happens once", () => {
    const parsed = parseSoakConfig(["--minutes", "2"]);
    // (120 s - 30 s of room at the end) / 4 kinds: faults at 22, 44, 66 and 88 s.
    expect(parsed.ok && parsed.config.faultEverySeconds).toBe(22);
  });

  it("lists every malformed or out-of-range flag at once", () => {
    const parsed = parseSoakConfig([
      "--minutes",
      "0",
      "--sample-every",
      "10",
      "--rate",
      "lots",
      "--fault-every",
      "5",
    ]);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problems).toEqual([
      expect.stringMatching(/^--minutes must be a number from 1 to 1440/),
      expect.stringMatching(/^--sample-every must be a number from 2 to 5/),
      expect.stringMatching(/^--rate must be a number from 10 to 400/),
      expect.stringMatching(/^--fault-every must be a number from 10/),
    ]);
  });

  it("rejects an unknown flag", () => {
    const parsed = parseSoakConfig(["--minuets", "3"]);
    expect(!parsed.ok && parsed.problems.join()).toMatch(/minuets/);
  });

  it("answers --help", () =>
    expect(parseSoakConfig(["--help"])).toEqual({ ok: false, problems: [], help: true }));
});

describe("the soak's load", () => {
  it("alternates each route's requests between a hot item and the next cold one", () => {
    // Even requests are public, odd PerUser (the fault load's turns); per route: hot, cold, hot, cold…
    const ids = Array.from({ length: 8 }, (_, i) => soakItemOf(i, 1000));
    expect(ids).toEqual(["h0", "h0", "c0", "c0", "h1", "h1", "c1", "c1"]);
  });

  it("wraps around the cold items", () => {
    expect(soakItemOf(4 * 1000 + 2, 1000)).toBe("c0");
  });

  it("paces each client so all of them make at most the rate", () => {
    expect(paceMs(8, 200)).toBe(40);
    expect((8 * 1000) / paceMs(8, 300)).toBeLessThanOrEqual(300);
  });
});
