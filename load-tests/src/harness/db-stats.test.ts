import { describe, expect, it } from "vitest";
import { dbWork, statementReduction } from "./db-stats.js";

describe("dbWork", () => {
  it("takes the differences of the counters over the window", () => {
    const work = dbWork(
      { statements: 100, queryMillis: 50, requests: 40 },
      { statements: 400, queryMillis: 850, requests: 140 },
      { seconds: 60, clientRequests: 120 },
    );
    expect(work).toEqual({
      statements: 300,
      queryMillis: 800,
      apiRequests: 100,
      seconds: 60,
      statementsPerSecond: 5,
      statementsPerRequest: 2.5,
    });
  });
});

describe("statementReduction", () => {
  it("compares statements per client request, direct against the sidecar", () => {
    const zero = { statements: 0, queryMillis: 0, requests: 0 };
    const direct = dbWork(
      zero,
      { statements: 300, queryMillis: 0, requests: 100 },
      { seconds: 10, clientRequests: 100 },
    );
    const sidecar = dbWork(
      zero,
      { statements: 60, queryMillis: 0, requests: 20 },
      { seconds: 10, clientRequests: 100 },
    );
    expect(statementReduction(direct, sidecar)).toBeCloseTo(80);
  });
});
