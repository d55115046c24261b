import { describe, expect, it } from "vitest";
import { loadThresholds } from "../thresholds.js";
import { equalLoadSeconds, parseCapacityConfig } from "./capacity-config.js";

const defaults = { policyFile: "policy.yaml", resultsFile: "results.md", targets: loadThresholds().capacity };

describe("parseCapacityConfig", () => {
  it("takes its defaults from thresholds.json", () => {
    const parsed = parseCapacityConfig([], defaults);
    expect(parsed).toEqual({
      ok: true,
      config: expect.objectContaining({
        scenarios: ["mixed"],
        size: "default",
        store: "redis",
        resultsFile: "results.md",
        windowSeconds: defaults.targets.windowSeconds,
        warmupSeconds: defaults.targets.warmupSeconds,
        maxRate: defaults.targets.maxRate,
        equalWindowSeconds: 60,
      }),
    });
  });

  it("shortens every window with --quick, and explicit flags win", () => {
    const parsed = parseCapacityConfig(["--quick", "--window", "7", "--no-results"], defaults);
    expect(parsed.ok && parsed.config).toMatchObject({
      windowSeconds: 7,
      warmupSeconds: 2,
      equalWindowSeconds: 20,
    });
    expect(parsed.ok && parsed.config.resultsFile).toBeUndefined();
  });

  it("lists every problem at once", () => {
    const parsed = parseCapacityConfig(["--size", "huge", "--window", "0", "--scenarios", "nope"], defaults);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.problems).toHaveLength(3);
      expect(parsed.problems.join("\n")).toMatch(/--size.*\n.*nope.*\n.*--window/s);
    }
  });

  it("asks for help", () => {
    expect(parseCapacityConfig(["-h"], defaults)).toEqual({ ok: false, problems: [], help: true });
  });
});

describe("equalLoadSeconds", () => {
  it("runs long enough for 100 requests, within 3 minutes", () => {
    expect(equalLoadSeconds(60, 5)).toBe(60);
    expect(equalLoadSeconds(60, 1)).toBe(100);
    expect(equalLoadSeconds(60, 0.25)).toBe(180);
  });
});
