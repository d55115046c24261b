import { describe, expect, it } from "vitest";
import { requestBypass } from "./request-directives.js";

describe("a request's own cache directives", () => {
  it.each([
    ["Cache-Control: no-cache", { "cache-control": "no-cache" }],
    ["Cache-Control: max-age=0", { "cache-control": "max-age=0" }],
    ["Pragma: no-cache", { pragma: "no-cache" }],
  ])("are ignored by default: %s is answered from the cache", (_name, headers) => {
    expect(requestBypass(headers, "Ignore")).toBeUndefined();
  });

  it.each([
    ["Cache-Control: no-cache", { "cache-control": "No-Cache" }],
    ["Pragma: no-cache without Cache-Control", { pragma: "x, no-cache" }],
  ])("send %s to the upstream under clientNoCache Honor", (_name, headers) => {
    expect(requestBypass(headers, "Honor")).toBe("request-no-cache");
  });

  it("let Cache-Control win over Pragma (RFC 9111 §5.4)", () => {
    expect(requestBypass({ pragma: "no-cache", "cache-control": "max-age=60" }, "Honor")).toBeUndefined();
  });

  it.each(["Ignore", "Honor"] as const)("bypass on no-store under %s", (mode) => {
    expect(requestBypass({ "cache-control": "no-store" }, mode)).toBe("request-no-store");
  });
});
