import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ScenarioOverrides } from "./harness/config.js";
import { parseScenarioText, type Scenario } from "./scenario.js";

/** load-tests/scenarios: the scenario files shared by the harness and the k6 scripts. */
export const SCENARIOS_DIR = new URL("../scenarios/", import.meta.url).pathname;

export function scenarioNames(): string[] {
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

export function loadScenario(name: string, overrides: ScenarioOverrides = {}): Scenario {
  const file = join(SCENARIOS_DIR, `${name}.json`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(
      `no scenario ${JSON.stringify(name)}: expected ${file} (have: ${scenarioNames().join(", ")})`,
    );
  }
  const parsed = parseScenarioText(text);
  if (!parsed.ok) throw new Error(`${file} is not a valid scenario:\n  ${parsed.problems.join("\n  ")}`);
  return { ...parsed.scenario, ...overrides };
}
