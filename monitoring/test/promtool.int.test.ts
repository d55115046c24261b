// promtool against the rules as the generator produces them now (not the possibly stale committed copy):
// `promtool check rules` accepts them and `promtool test rules` runs monitoring/rules-tests/*.yaml.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { alertRules, recordingRules, rulesYaml } from "../src/index.js";

const run = promisify(execFile);
const testsDir = fileURLToPath(new URL("../rules-tests/", import.meta.url));
const docs = fileURLToPath(new URL("../../docs/monitoring.md", import.meta.url));

async function promtool(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run("promtool", args, { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

interface RulesTestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

describe("the generated Prometheus rules under promtool", () => {
  let work: string;
  const testFiles = readdirSync(testsDir).filter((f) => f.endsWith(".yaml"));

  beforeAll(() => {
    // The same layout as the repository: rules-tests/*.yaml refer to ../generated/apicache-rules.yaml.
    work = mkdtempSync(join(tmpdir(), "apicache-promtool-"));
    mkdirSync(join(work, "generated"));
    writeFileSync(join(work, "generated", "apicache-rules.yaml"), rulesYaml());
    cpSync(testsDir, join(work, "rules-tests"), { recursive: true });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("passes promtool check rules with every recording rule and alert counted", async () => {
    const { code, output } = await promtool(["check", "rules", "generated/apicache-rules.yaml"], work);
    expect(output).toContain(`SUCCESS: ${recordingRules().length + alertRules().length} rules found`);
    expect(code).toBe(0);
  });

  it.each(testFiles)("passes promtool test rules %s", async (file) => {
    const { code, output } = await promtool(["test", "rules", join("rules-tests", file)], work);
    expect(output).toContain("SUCCESS");
    expect(code).toBe(0);
  });

  it("fails promtool test rules when an expectation is wrong (the harness can fail)", async () => {
    const original = readFileSync(join(work, "rules-tests", "cache-effect.yaml"), "utf8");
    const broken = original.replace("value: 0.25", "value: 0.26");
    expect(broken).not.toBe(original);
    writeFileSync(join(work, "rules-tests", "broken.yaml"), broken);
    const { code, output } = await promtool(["test", "rules", join("rules-tests", "broken.yaml")], work);
    expect(output).toContain("FAILED");
    expect(code).not.toBe(0);
  });

  it("has a firing test for every alert", () => {
    const fired = new Set<string>();
    for (const file of testFiles) {
      const parsed = parse(readFileSync(join(testsDir, file), "utf8")) as RulesTestFile;
      for (const test of parsed.tests) {
        for (const case_ of test.alert_rule_test ?? []) {
          if (case_.exp_alerts.length > 0) fired.add(case_.alertname);
        }
      }
    }
    expect(
      alertRules()
        .map((a) => a.alert)
        .filter((name) => !fired.has(name)),
    ).toEqual([]);
  });

  it("has a runbook section in docs/monitoring.md for every alert", () => {
    const text = readFileSync(docs, "utf8");
    const headings = new Set([...text.matchAll(/^#{2,4} (\S+)/gm)].map((m) => m[1]?.toLowerCase()));
    expect(
      alertRules()
        .map((a) => a.alert)
        .filter((name) => !headings.has(name.toLowerCase())),
    ).toEqual([]);
  });
});
