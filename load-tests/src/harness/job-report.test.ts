import { describe, expect, it } from "vitest";
import type { Scenario } from "../scenario.js";
import { readJobReport, renderJobReport, reportLine, scenarioReport } from "./job-report.js";
import type { PhaseResult } from "./run-scenario.js";
import { sample } from "./sample-fixture.js";
import type { Sample } from "./stats.js";
import { parseComparisonTable } from "./table.js";

const phase = (samples: Sample[], extra: Partial<PhaseResult> = {}): PhaseResult => ({
  label: "x",
  samples,
  schedulerLagMs: [1, 2, 3],
  checks: { verified: 2, stale: [] },
  checkReads: [],
  errors: [],
  stopped: false,
  primedWrites: 0,
  primedKeys: 0,
  primeMillis: 0,
  warmupErrors: [],
  earlierSamples: [],
  earlierCheckReads: [],
  ...extra,
});

const scenario = {
  name: "read-only",
  arrivalRate: 5,
  durationSeconds: 20,
  warmupSeconds: 3,
  writeRatio: 0,
  seed: 1,
} as Scenario;

const direct = phase([sample("slots", 40, "none"), sample("catalog", 20, "none")]);
const sidecar = phase(
  [sample("slots", 2, "hit"), { ...sample("catalog", 30, "miss"), failed: true, status: 502 }],
  {
    primedKeys: 115,
    primeMillis: 2400,
    errors: ["GET /api/v2/services: HTTP 502 bad gateway"],
  },
);
const report = {
  version: 1 as const,
  startedAt: "2026-12-07T06:00:00.000Z",
  finishedAt: "2026-12-07T06:01:00.000Z",
  machine: "2 × test CPU",
  directUrl: "http://direct",
  sidecarUrl: "http://api",
  scenarios: [scenarioReport(scenario, direct, sidecar)],
};

describe("the bench Job's report", () => {
  it("counts each path's failures, the hits through the sidecar and the errors", () => {
    const s = report.scenarios[0];
    expect(s?.failed).toEqual({ direct: 0, sidecar: 1 });
    expect(s?.verified).toBe(4);
    expect(s?.comparison.reads.hitRatio).toBe(0.5);
    expect(s?.errors).toEqual(["GET /api/v2/services: HTTP 502 bad gateway"]);
  });

  it("reads back from a log what it printed, the no-writes NaN included, and renders the same table", () => {
    const log = `progress line\n${renderJobReport(report)}\n${reportLine(report)}\n`;
    const read = readJobReport(log);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.report.scenarios[0]?.comparison.writes.before.p50).toBeNaN();
    expect(read.report.scenarios[0]?.comparison.reads).toEqual(report.scenarios[0]?.comparison.reads);
    expect(renderJobReport(read.report)).toBe(renderJobReport(report));
    const rows = parseComparisonTable(renderJobReport(read.report));
    expect(rows.find((r) => r.endpoint === "all reads")?.hitRatio).toBe(0.5);
  });

  it("says what is wrong with a log without a report, or with a broken one", () => {
    expect(readJobReport("bench job: timed out")).toMatchObject({
      ok: false,
      problem: /no "APICACHE_BENCH_REPORT" line/,
    });
    expect(readJobReport("APICACHE_BENCH_REPORT {oops")).toMatchObject({ ok: false, problem: /not JSON/ });
    expect(readJobReport('APICACHE_BENCH_REPORT {"version":2,"scenarios":[]}')).toMatchObject({ ok: false });
    expect(readJobReport('APICACHE_BENCH_REPORT {"version":1,"scenarios":[{"name":"x"}]}')).toMatchObject({
      ok: false,
      problem: 'scenario "x" has no comparison',
    });
  });
});
