import { describe, expect, it } from "vitest";
import { callerUserId } from "./auth.js";

describe("callerUserId", () => {
  it.each([
    ["Bearer user-1000001", 1000001],
    [" Bearer user-7 ", 7],
    ["Bearer user-0", undefined],
    ["Basic dXNlcjpwYXNz", undefined],
    [undefined, undefined],
  ])("reads %j as %j", (header, expected) => {
    expect(callerUserId(header)).toBe(expected);
  });
});
