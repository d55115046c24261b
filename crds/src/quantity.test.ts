import { describe, expect, it } from "vitest";
import { parseQuantity, parseResourceQuantity } from "./quantity.js";

describe("parseQuantity", () => {
  it.each([
    [0, 0],
    [1048576, 1_048_576],
    ["1048576", 1_048_576],
    ["512Ki", 524_288],
    ["1Mi", 1_048_576],
    ["64Mi", 67_108_864],
    ["1Gi", 1_073_741_824],
    ["1k", 1_000],
    ["2M", 2_000_000],
  ])("reads %j as %d bytes", (value, bytes) => {
    expect(parseQuantity(value)).toBe(bytes);
  });

  it.each([-1, 1.5, "1 MB", "1Ti", "Mi", "", "1.5Mi"])("rejects %j", (value) => {
    expect(parseQuantity(value)).toBeUndefined();
  });
});

describe("parseResourceQuantity", () => {
  it.each([
    ["500m", 0.5],
    ["2", 2],
    ["0.25", 0.25],
    [".5", 0.5],
    ["64Mi", 67_108_864],
    ["1Gi", 1_073_741_824],
    ["1E", 1e18],
    ["1e3", 1000],
    ["128974848", 128_974_848],
    [1, 1],
  ])("reads %j as %d", (value, amount) => {
    expect(parseResourceQuantity(value)).toBeCloseTo(amount);
  });

  it.each(["-1", "1 Mi", "Mi", "", "1mi", "1.2.3", -1])("rejects %j", (value) => {
    expect(parseResourceQuantity(value)).toBeUndefined();
  });
});
