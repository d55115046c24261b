import { describe, expect, it } from "vitest";
import { parseQuantity } from "./quantity.js";

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
