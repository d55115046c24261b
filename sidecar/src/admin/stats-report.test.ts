import { parseCachePolicyOrThrow } from "@apicache/crds";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../routing/compile-policy.js";
import { StatsRecorder } from "./stats-recorder.js";
import { buildStatsReport } from "./stats-report.js";

const policy = compilePolicy(
  parseCachePolicyOrThrow({
    apiVersion: "apicache.io/v1alpha1",
    kind: "CachePolicy",
    metadata: { name: "api", namespace: "ns" },
    spec: {
      selector: { matchLabels: { app: "api" } },
      upstream: { port: 80 },
      routes: [
        { name: "slots", path: "/slots", ttl: "60s", tags: ["slots"] },
        { name: "profile", path: "/profile" },
      ],
    },
  }),
  "text",
);

function recorder() {
  let now = 0;
  const stats = new StatsRecorder(() => now);
  return { stats, advance: (ms: number) => (now += ms) };
}

describe("the stats report", () => {
  it("computes hit ratio, latency percentiles and the estimated improvement", () => {
    const { stats } = recorder();
    for (let i = 0; i < 75; i++) stats.request("slots", "hit", 0.001);
    for (let i = 0; i < 25; i++) stats.request("slots", "miss", 0.1);
    stats.request("slots", "bypass", 0.1, "no-route");
    const report = buildStatsReport(stats.snapshot(), policy).routes.find((r) => r.route === "slots");
    expect(report).toMatchObject({
      requests: 101,
      hitRatio: 0.75,
      latencyMs: { cache: { p50: 1 }, upstream: { p50: 100 } },
    });
    expect(report?.improvementPercent).toBeCloseTo(74.25, 1);
  });

  it("recommends PerUser when identifying requests keep a route from ever hitting", () => {
    const { stats } = recorder();
    for (let i = 0; i < 30; i++) stats.request("profile", "bypass", 0.05, "identifying-request");
    const report = buildStatsReport(stats.snapshot(), policy).routes.find((r) => r.route === "profile");
    expect(report?.recommendations.join(" ")).toMatch(/never served from cache.*PerUser/);
  });

  it("notices entries that mostly expire unused", () => {
    const { stats } = recorder();
    for (let i = 0; i < 20; i++) {
      stats.request("slots", "miss", 0.1);
      stats.stored("slots");
    }
    stats.request("slots", "hit", 0.001);
    const report = buildStatsReport(stats.snapshot(), policy).routes.find((r) => r.route === "slots");
    expect(report?.recommendations.join(" ")).toMatch(/mostly expire unused \(1 hits for 20 stored/);
  });

  it("notices a ttl far below how often the data changes", () => {
    const { stats, advance } = recorder();
    stats.request("slots", "hit", 0.001);
    advance(60 * 60_000);
    stats.invalidated(["slots"]);
    const report = buildStatsReport(stats.snapshot(), policy).routes.find((r) => r.route === "slots");
    expect(report?.recommendations.join(" ")).toMatch(
      /ttl 60s of "slots" is far below how often its data changes/,
    );
  });
});
