import { describe, expect, it } from "vitest";
import type { Scenario } from "../scenario.js";
import type { ProbeResult } from "./capacity-probe.js";
import {
  capacityRatio,
  renderAtDirectCapacity,
  renderCapacityTable,
  renderDbWork,
  renderOriginalTable,
} from "./capacity-report.js";
import type { CapacityRun } from "./capacity-run.js";
import { dbWork } from "./db-stats.js";
import { sample as measured } from "./sample-fixture.js";
import type { Sample } from "./stats.js";

const zero = { statements: 0, queryMillis: 0, requests: 0 };
const sample = (endpoint: Sample["endpoint"], latencyMs: number): Sample =>
  measured(endpoint, latencyMs, "none");

function probe(rate: number, pass: boolean, samples: Sample[] = [sample("slots", 100)]): ProbeResult {
  return {
    rate,
    pass,
    reason: pass ? "" : "p95 over the SLO",
    n: samples.length,
    p50: 10 * rate,
    p95: 20 * rate,
    p99: 30 * rate,
    mean: 12 * rate,
    failed: 0,
    conflicts: rate === 32 ? 3 : 0,
    stoppedEarly: false,
    lagP99: 1,
    cores: { api: 0.8, sidecar: 0.05 },
    db: dbWork(
      zero,
      { statements: 300, queryMillis: 900, requests: 100 },
      { seconds: 60, clientRequests: 100 },
    ),
    samples,
  };
}

function fakeRun(capped = false): CapacityRun {
  return {
    scenario: { name: "mixed" } as Scenario,
    sloMs: 4200,
    windowSeconds: 30,
    warmupSeconds: 5,
    direct: {
      capacity: 2,
      capped: false,
      firstFailed: 2.5,
      probes: [
        { rate: 1, result: probe(1, true) },
        { rate: 2, result: probe(2, true) },
        { rate: 4, result: probe(4, false) },
        { rate: 3, result: probe(3, false) },
        { rate: 2.5, result: probe(2.5, false) },
      ],
    },
    sidecar: {
      capacity: 32,
      capped,
      probes: [
        { rate: 2, result: probe(2, true) },
        { rate: 8, result: probe(8, true) },
        { rate: 32, result: probe(32, true) },
      ],
    },
    equalLoad: {
      rate: 1,
      direct: probe(1, true, [sample("slots", 200), sample("slots", 300), sample("catalog", 100)]),
      sidecar: probe(1, true, [sample("slots", 2), sample("slots", 4), sample("catalog", 1)]),
    },
    primedKeys: 10,
    machine: "test",
    sidecarCommand: "node sidecar",
    seconds: 100,
  };
}

describe("the capacity report", () => {
  it("states the ratio, with ≥ when the sidecar reached the top of its ladder", () => {
    expect(capacityRatio(fakeRun())).toBe("16.0×");
    expect(capacityRatio(fakeRun(true))).toBe("≥ 16.0×");
    const both = fakeRun(true);
    expect(capacityRatio({ ...both, direct: { ...both.direct, capped: true } })).toMatch(
      /^– \(the direct path held the top/,
    );
  });

  it("shows each path's capacity with its percentiles at that rate and every probe", () => {
    const table = renderCapacityTable(fakeRun());
    expect(table).toContain("| direct | 2 | 20 ms | 40 ms | 60 ms | 0 | 1 ✓, 2 ✓, 4 ✗, 3 ✗, 2.5 ✗ |");
    expect(table).toContain(
      "| through the sidecar | 32 | 320 ms | 640 ms | 960 ms | 0 (+3 × 409) | 2 ✓, 8 ✓, 32 ✓ |",
    );
    expect(table).toContain("**Capacity ratio: 16.0×** (p95 SLO 4200 ms");
  });

  it("puts the sidecar path at the direct capacity next to the direct path, with CPU", () => {
    const text = renderAtDirectCapacity(fakeRun());
    expect(text).toContain("At the direct path's capacity, 2 requests/s");
    expect(text).toContain("| through the sidecar | 20 ms | 40 ms | 60 ms | 5% of a core | 80% of a core |");
  });

  it("renders the platform's table shape at equal load, next to the platform's figures", () => {
    const table = renderOriginalTable(fakeRun());
    expect(table).toContain("Equal load: 1 requests/s on both paths (50% of the direct path's capacity)");
    expect(table).toContain(
      "| Available Slots | 250 ms | 3.00 ms | 98.8% faster | 300 ms | 4.00 ms | 2 / 2 | 250 ms → 85 ms (66% faster) |",
    );
    expect(table).toContain("| Service Catalog | 100 ms | 1.00 ms | 99.0% faster |");
    expect(table).not.toContain("Business Analytics");
  });

  it("reports the statements per second and their reduction", () => {
    const direct = dbWork(
      zero,
      { statements: 600, queryMillis: 0, requests: 100 },
      { seconds: 60, clientRequests: 100 },
    );
    const sidecar = dbWork(
      zero,
      { statements: 150, queryMillis: 0, requests: 20 },
      { seconds: 60, clientRequests: 100 },
    );
    const text = renderDbWork(direct, sidecar, 0.9, 0.2);
    expect(text).toContain("| direct | 10.0 | 6.00 | 100 |");
    expect(text).toContain("| through the sidecar | 2.5 | 1.50 | 20 |");
    expect(text).toContain("75.0% fewer SQL statements per second");
  });
});
