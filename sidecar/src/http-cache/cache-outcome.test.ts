import { describe, expect, it } from "vitest";
import {
  CACHE_OUTCOMES,
  type CacheOutcome,
  cacheStatus,
  outcomeLabel,
  servedFromCache,
} from "./cache-outcome.js";

const cases: [CacheOutcome, string, string][] = [
  [{ kind: "hit", ttl: 42 }, "apicache; hit; ttl=42", "hit"],
  [{ kind: "hit", ttl: 60, coalesced: true }, "apicache; hit; ttl=60; detail=coalesced", "hit"],
  [
    { kind: "stale-while-revalidate", ttl: -3 },
    "apicache; hit; ttl=-3; detail=stale-while-revalidate",
    "stale-while-revalidate",
  ],
  [
    { kind: "stale-if-error", ttl: -40, error: "status_5xx", fwdStatus: 503 },
    "apicache; fwd=stale; fwd-status=503; ttl=-40; detail=stale-if-error",
    "stale-if-error",
  ],
  [
    { kind: "stale-if-error", ttl: -1, error: "refused" },
    "apicache; fwd=stale; ttl=-1; detail=stale-if-error",
    "stale-if-error",
  ],
  [
    { kind: "miss", fwd: "uri-miss", fwdStatus: 200 },
    "apicache; fwd=uri-miss; fwd-status=200; stored",
    "miss",
  ],
  [{ kind: "miss", fwd: "stale", fwdStatus: 200 }, "apicache; fwd=stale; fwd-status=200; stored", "miss"],
  [
    { kind: "uncacheable", fwd: "vary-miss", fwdStatus: 200, reason: "set-cookie" },
    "apicache; fwd=vary-miss; fwd-status=200; detail=set-cookie",
    "uncacheable",
  ],
  [{ kind: "bypass", reason: "no-route" }, "apicache; fwd=bypass; detail=no-route", "bypass"],
  [
    { kind: "bypass", reason: "unsafe-method", fwdStatus: 201 },
    "apicache; fwd=method; fwd-status=201; detail=unsafe-method",
    "bypass",
  ],
  [
    { kind: "bypass", reason: "request-no-cache", fwdStatus: 200 },
    "apicache; fwd=request; fwd-status=200; detail=request-no-cache",
    "bypass",
  ],
  [
    { kind: "error", fwd: "uri-miss", error: "timeout" },
    "apicache; fwd=uri-miss; detail=upstream-timeout",
    "error",
  ],
  [
    { kind: "error", fwd: "uri-miss", error: "status_5xx" },
    "apicache; fwd=uri-miss; detail=upstream-status-5xx",
    "error",
  ],
  [
    { kind: "shadow", wouldBe: { kind: "hit", ttl: 5 }, fwdStatus: 200 },
    "apicache; fwd=bypass; fwd-status=200; detail=shadow-hit",
    "shadow-hit",
  ],
];

describe("a cache outcome", () => {
  it.each(cases)("%j renders Cache-Status %j and metric label %j", (outcome, header, label) => {
    expect(cacheStatus(outcome)).toBe(header);
    expect(outcomeLabel(outcome)).toBe(label);
  });

  it.each(cases)("%j has a label the metric names declare", (outcome) => {
    expect(CACHE_OUTCOMES).toContain(outcomeLabel(outcome));
  });

  it("counts hits and stale answers as served from the cache, and nothing else", () => {
    const served = cases.filter(([outcome]) => servedFromCache(outcome)).map(([, , label]) => label);
    expect(new Set(served)).toEqual(new Set(["hit", "stale-while-revalidate", "stale-if-error"]));
  });
});
