import { describe, expect, it } from "vitest";
import { parseBenchConfig, parseDemoConfig } from "./config.js";

const defaults = { policyFile: "p.yaml", resultsFile: "r.md" };

describe("parseBenchConfig", () => {
  it("runs read-only and mixed on the default size with Redis by default", () => {
    expect(parseBenchConfig([], defaults)).toEqual({
      ok: true,
      config: {
        scenarios: ["read-only", "mixed"],
        size: "default",
        store: "redis",
        policyFile: "p.yaml",
        resultsFile: "r.md",
        overrides: {},
      },
    });
  });

  it("takes overrides and can skip the results file", () => {
    const result = parseBenchConfig(
      ["--duration", "30", "--rate", "2", "--no-results", "--store", "memory"],
      defaults,
    );
    expect(result.ok && result.config).toMatchObject({
      store: "memory",
      overrides: { durationSeconds: 30, arrivalRate: 2 },
    });
    expect(result.ok && result.config.resultsFile).toBeUndefined();
  });

  it("lists every problem", () => {
    const result = parseBenchConfig(["--size", "xl", "--store", "disk", "--rate", "0"], defaults);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toHaveLength(3);
  });
});

describe("parseDemoConfig", () => {
  it("uses the small dataset and stays up on a terminal", () => {
    expect(parseDemoConfig([], {}, { policyFile: "p", interactive: true })).toMatchObject({
      ok: true,
      config: { size: "small", short: false, keepRunning: true },
    });
  });

  it("runs short on the tiny dataset when APICACHE_DEMO_SHORT=1, and exits", () => {
    expect(
      parseDemoConfig([], { APICACHE_DEMO_SHORT: "1" }, { policyFile: "p", interactive: true }),
    ).toMatchObject({
      ok: true,
      config: { size: "tiny", short: true, keepRunning: false, overrides: { durationSeconds: 6 } },
    });
  });
});
