import pino from "pino";
import { describe, expect, it } from "vitest";
import type { CacheOutcome } from "../http-cache/cache-outcome.js";
import { createMetrics } from "./metrics.js";
import { createRequestObserver, type RequestRecord, type RequestStats, report } from "./request-observer.js";

function recordingStats() {
  const requests: unknown[][] = [];
  const stored: string[] = [];
  const stats: RequestStats = {
    request: (...args) => requests.push(args),
    stored: (route) => stored.push(route),
  };
  return { stats, requests, stored };
}

describe("reporting a finished request", () => {
  it("hands the observer one record: the request's policy, route, method, path, status and outcome", () => {
    const records: RequestRecord[] = [];
    const observer = {
      ...createRequestObserver(createMetrics(), recordingStats().stats, pino({ level: "silent" })),
    };
    observer.request = (record) => records.push(record);
    const outcome: CacheOutcome = { kind: "miss", fwd: "uri-miss", fwdStatus: 200 };
    const started = performance.now() - 20;
    report(
      { ctx: { observer }, req: { method: "HEAD", url: "/a?b=1" }, policy: { label: "ns/p" }, started },
      "items",
      200,
      outcome,
    );
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({
      policy: "ns/p",
      route: "items",
      method: "HEAD",
      path: "/a?b=1",
      status: 200,
    });
    expect(record?.outcome).toBe(outcome);
    expect(record?.seconds).toBeGreaterThanOrEqual(0.02);
  });

  it("defaults a request without method or URL to GET /", () => {
    const records: RequestRecord[] = [];
    const observer = {
      ...createRequestObserver(createMetrics(), recordingStats().stats, pino({ level: "silent" })),
    };
    observer.request = (record) => records.push(record);
    report({ ctx: { observer }, req: {}, policy: { label: "p" }, started: 0 }, "none", 502, {
      kind: "bypass",
      reason: "no-route",
    });
    expect(records[0]).toMatchObject({ method: "GET", path: "/" });
  });
});

describe("the request observer", () => {
  it("counts the request under its outcome label and tells the stats recorder, with the reason", async () => {
    const metrics = createMetrics();
    const { stats, requests } = recordingStats();
    const observer = createRequestObserver(metrics, stats, pino({ level: "silent" }));
    observer.request({
      policy: "ns/p",
      route: "items",
      method: "GET",
      outcome: { kind: "uncacheable", fwd: "uri-miss", fwdStatus: 200, reason: "set-cookie" },
      seconds: 0.01,
      status: 200,
      path: "/items",
    });
    const counted = (await metrics.requests.get()).values;
    expect(counted).toEqual([
      { value: 1, labels: { policy: "ns/p", route: "items", method: "GET", outcome: "uncacheable" } },
    ]);
    expect(requests).toEqual([["items", "uncacheable", 0.01, "set-cookie"]]);
  });

  it("passes a stored entry to the stats recorder and upstream errors to their counter", async () => {
    const metrics = createMetrics();
    const { stats, stored } = recordingStats();
    const observer = createRequestObserver(metrics, stats, pino({ level: "silent" }));
    observer.stored("ns/p", "items");
    observer.upstream("ns/p", "items", 0.5, "timeout");
    expect(stored).toEqual(["items"]);
    const errors = (await metrics.upstreamErrors.get()).values;
    expect(errors).toEqual([{ value: 1, labels: { policy: "ns/p", route: "items", reason: "timeout" } }]);
  });

  it("counts an error of an upstream request already observed without observing it again", async () => {
    const metrics = createMetrics();
    const observer = createRequestObserver(metrics, recordingStats().stats, pino({ level: "silent" }));
    observer.upstream("ns/p", "items", 0.5);
    observer.upstreamError("ns/p", "items", "busy");
    const [duration] = (await metrics.upstreamDuration.get()).values.filter((v) =>
      v.metricName?.endsWith("_count"),
    );
    expect(duration?.value).toBe(1);
    const errors = (await metrics.upstreamErrors.get()).values;
    expect(errors).toEqual([{ value: 1, labels: { policy: "ns/p", route: "items", reason: "busy" } }]);
  });
});
