import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1h0m10s5ms", 3_610_005],
    ["0s", 0],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "-5m", "5 minutes", "1.5h", "5d", "m5", "5mm"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([0, 500, 30_000, 5_400_000, 3_610_005])("round-trips %d ms through formatDuration", (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
