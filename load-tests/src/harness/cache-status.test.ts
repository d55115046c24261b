import { describe, expect, it } from "vitest";
import { classifyCacheStatus } from "./cache-status.js";

describe("classifyCacheStatus", () => {
  it.each([
    ["apicache; hit; ttl=42", "hit"],
    ["apicache; hit; ttl=60; detail=coalesced", "hit"],
    ["apicache; hit; ttl=-3; detail=stale-while-revalidate", "hit"],
    ["apicache; fwd=stale; fwd-status=503; ttl=-40; detail=stale-if-error", "hit"],
    ["apicache; fwd=uri-miss; fwd-status=200; stored", "miss"],
    ["apicache; fwd=uri-miss; fwd-status=200; detail=set-cookie", "miss"],
    ["apicache; fwd=bypass; fwd-status=200; detail=no-route", "bypass"],
    ["apicache; fwd=method; fwd-status=201; detail=unsafe-method", "bypass"],
    ["cdn; hit, apicache; fwd=uri-miss; fwd-status=200", "miss"],
    ["cdn; hit", "none"],
    [undefined, "none"],
  ])("reads %j as %s", (header, expected) => {
    expect(classifyCacheStatus(header)).toBe(expected);
  });
});
