import { describe, expect, it } from "vitest";
import { clusterSection } from "./cluster-section.js";
import type { JobReport } from "./job-report.js";
import { compareScenario } from "./stats.js";
import { parseComparisonTable } from "./table.js";

const report: JobReport = {
  version: 1,
  startedAt: "2026-12-07T07:10:42.000Z",
  finishedAt: "2026-12-07T07:15:00.000Z",
  machine: "2 × test CPU",
  directUrl: "http://demo-api-direct.apicache-demo.svc.cluster.local",
  sidecarUrl: "http://demo-api.apicache-demo.svc.cluster.local",
  scenarios: [
    {
      name: "read-only",
      arrivalRate: 5,
      durationSeconds: 60,
      warmupSeconds: 10,
      writeRatio: 0,
      seed: 1,
      primedKeys: 115,
      primeMillis: 1500,
      primedWrites: 0,
      comparison: compareScenario(
        "read-only",
        [
          {
            name: "s",
            endpoint: "slots",
            method: "GET",
            path: "/",
            status: 200,
            latencyMs: 20,
            cache: "none",
            failed: false,
          },
        ],
        [
          {
            name: "s",
            endpoint: "slots",
            method: "GET",
            path: "/",
            status: 200,
            latencyMs: 2,
            cache: "hit",
            failed: false,
          },
        ],
      ),
      failed: { direct: 0, sidecar: 0 },
      verified: 0,
      stale: 0,
      lagP99Ms: { direct: 1, sidecar: 1 },
      errors: [],
    },
  ],
};

describe("the results section of make bench-cluster", () => {
  const text = clusterSection({
    report,
    command: "make bench-cluster",
    args: ["--rate", "5"],
    jobSeconds: 281.4,
  });

  it("says how it was produced: the command, the date, the Job's arguments and length, both Services", () => {
    expect(text).toMatch(/^Produced by `make bench-cluster` on 2026-12-07 07:10 UTC/);
    expect(text).toContain("(`job-main.js --rate 5`; 281 s from apply to completion)");
    expect(text).toContain(
      "`demo-api-direct` Service (http://demo-api-direct.apicache-demo.svc.cluster.local)",
    );
    expect(text).toContain("Machine, as the Job's pod saw it: 2 × test CPU.");
  });

  it("ends with each scenario's table", () => {
    expect(text).toContain("### Scenario `read-only`");
    expect(parseComparisonTable(text).map((r) => r.endpoint)).toEqual(["slots", "all reads", "all requests"]);
  });
});
