import { describe, expect, it } from "vitest";
import { type AdminAuth, authorize, isLoopback } from "./auth.js";

describe("admin authorization", () => {
  const token: AdminAuth = { kind: "token", current: () => "s3cret" };

  it.each([
    ["no header", undefined, "missing"],
    ["an empty header", "  ", "missing"],
    ["another scheme", "Basic czNjcmV0", "invalid"],
    ["a wrong token", "Bearer s3cre", "invalid"],
    ["the token", "Bearer s3cret", undefined],
    ["the token, any scheme case", "bearer s3cret", undefined],
  ])("with %s, answers %s", (_what, header, expected) => {
    expect(authorize(token, header)).toBe(expected);
  });

  it("refuses everyone while the token file has not appeared", () => {
    expect(authorize({ kind: "token", current: () => undefined }, "Bearer anything")).toBe("token-pending");
  });

  it("lets everyone through an open API", () => {
    expect(authorize({ kind: "open" }, undefined)).toBeUndefined();
  });
});

describe("isLoopback", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["localhost", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.7", false],
    ["example.internal", false],
  ])("%s → %s", (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});
