import { describe, expect, it } from "vitest";
import { pathFailed } from "./capacity-probe.js";
import type { Sample } from "./stats.js";

const sample = (status: number): Sample => ({
  name: "create-appointment",
  endpoint: "write",
  method: "POST",
  path: "/api/v2/appointments",
  status,
  latencyMs: 5,
  cache: "none",
  failed: status === 0 || status >= 400,
});

describe("pathFailed", () => {
  it.each([
    [200, false],
    [201, false],
    [409, false],
    [404, true],
    [500, true],
    [503, true],
    [0, true],
  ])("HTTP %i counts against the path: %s", (status, expected) => {
    expect(pathFailed(sample(status))).toBe(expected);
  });
});
