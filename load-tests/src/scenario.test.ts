import { describe, expect, it } from "vitest";
import { ENDPOINT_TYPES, parseScenario } from "./scenario.js";
import { loadScenario, scenarioNames } from "./scenario-files.js";

const valid = () =>
  structuredClone(loadScenario("mixed")) as Record<string, unknown> & ReturnType<typeof loadScenario>;

describe("the scenario files", () => {
  it("include read-only, mixed and demo", () => {
    expect(scenarioNames()).toEqual(expect.arrayContaining(["read-only", "mixed", "demo"]));
  });

  it.each(scenarioNames())("%s is valid and reads all five endpoint types", (name) => {
    const scenario = loadScenario(name);
    expect(new Set(scenario.reads.map((r) => r.endpoint))).toEqual(new Set(ENDPOINT_TYPES));
  });

  it("read-only has no writes and mixed has 10% writes", () => {
    expect(loadScenario("read-only").writeRatio).toBe(0);
    expect(loadScenario("mixed").writeRatio).toBe(0.1);
  });
});

describe("parseScenario", () => {
  it.each([
    ["an unknown field", (s: Record<string, unknown>) => Object.assign(s, { extra: 1 }), "extra"],
    ["a negative rate", (s: Record<string, unknown>) => Object.assign(s, { arrivalRate: -1 }), "arrivalRate"],
    [
      "a placeholder without a param",
      (s: ReturnType<typeof valid>) =>
        Object.assign(s.reads[0] as object, { path: "/api/v2/barbers/{nobody}/slots" }),
      "{nobody}",
    ],
    [
      "a GET among the writes",
      (s: ReturnType<typeof valid>) => Object.assign(s.writes[0] as object, { method: "GET" }),
      "reads must be GET",
    ],
    [
      "min above max",
      (s: ReturnType<typeof valid>) => Object.assign(s.params, { barberId: { kind: "int", min: 9, max: 1 } }),
      "min > max",
    ],
    [
      "writes without templates",
      (s: ReturnType<typeof valid>) => Object.assign(s, { writes: [] }),
      "writeRatio > 0",
    ],
  ])("rejects %s", (_, mutate, expected) => {
    const scenario = valid();
    mutate(scenario as never);
    const result = parseScenario(scenario);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join("\n")).toContain(expected);
  });

  it("accepts a valid scenario unchanged", () => {
    const scenario = valid();
    expect(parseScenario(scenario)).toEqual({ ok: true, scenario });
  });
});
