import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as k6 from "../k6/lib/sampler.js";
import { buildThresholds } from "../k6/lib/thresholds.js";
import { evaluateCheck } from "./harness/checks.js";
import { createSampler, readKeySpace } from "./sampler.js";
import { loadScenario, scenarioNames } from "./scenario-files.js";
import { loadThresholds, THRESHOLDS_FILE } from "./thresholds.js";

const REPO = new URL("../../", import.meta.url).pathname;

describe("the k6 scripts", () => {
  it("type-check against @types/k6 (tsc -p load-tests/k6/tsconfig.json)", () => {
    const tsc = spawnSync(
      process.execPath,
      [`${REPO}node_modules/typescript/bin/tsc`, "-p", "load-tests/k6/tsconfig.json"],
      {
        cwd: REPO,
        encoding: "utf8",
      },
    );
    expect(`${tsc.stdout}${tsc.stderr}`).toBe("");
    expect(tsc.status).toBe(0);
  }, 60_000);

  it("read the same targets file as the harness", () => {
    const script = readFileSync(`${REPO}load-tests/k6/side-by-side.ts`, "utf8");
    expect(script).toContain('open("../thresholds.json")');
    expect(script).toContain(["open(`../scenarios/$", "{SCENARIO_NAME}.json`)"].join(""));
    const file = JSON.parse(readFileSync(THRESHOLDS_FILE, "utf8")) as Record<string, unknown>;
    expect(Object.keys(loadThresholds())).toEqual(Object.keys(file));
  });

  it("fail the sidecar run below the shared p95 improvement target", () => {
    const targets = loadThresholds();
    const thresholds = buildThresholds({
      endpoints: ["slots"],
      targets,
      baseline: { scenario: "mixed", target: "direct", p95Ms: { slots: 200 } },
    });
    const limit = 200 * (1 - targets.k6MinP95ImprovementPercent / 100);
    expect(thresholds["http_req_duration{endpoint:slots,phase:measure}"]).toEqual([
      `p(95)<${limit.toFixed(1)}`,
    ]);
    expect(thresholds["apicache_failed_responses{phase:measure}"]).toEqual([
      `count<=${targets.maxFailedResponses}`,
    ]);
    expect(thresholds.apicache_stale_reads).toEqual([`count<=${targets.maxStaleReads}`]);
  });

  it("only report p95 without a baseline (the direct run)", () => {
    const thresholds = buildThresholds({ endpoints: ["catalog"], targets: loadThresholds() });
    expect(thresholds["http_req_duration{endpoint:catalog,phase:measure}"]).toEqual(["p(95)>=0"]);
  });
});

describe("the k6 sampler", () => {
  it.each(scenarioNames())("issues exactly the harness's request stream for scenario %s", (name) => {
    const scenario = loadScenario(name);
    const ours = createSampler(scenario, 99);
    const theirs = k6.createSampler(scenario as unknown as k6.Scenario, 99);
    for (let i = 0; i < 500; i++) {
      if (i === 250) {
        ours.give(77);
        theirs.give(77);
      }
      const a = ours.next();
      const b = theirs.next();
      expect({ method: b.method, path: b.path, headers: b.headers, body: b.body }).toEqual({
        method: a.method,
        path: a.path,
        headers: a.headers,
        body: a.body,
      });
    }
  });

  it.each(scenarioNames())("enumerates the same read key space for scenario %s", (name) => {
    const scenario = loadScenario(name);
    expect(k6.readKeySpace(scenario as unknown as k6.Scenario).map((r) => r.path)).toEqual(
      readKeySpace(scenario).map((r) => r.path),
    );
  });

  it.each([
    ["version", undefined, { id: 1, version: 3 }, { id: 1, version: 2 }],
    ["version", undefined, { id: 1, version: 3 }, { id: 1, version: 3 }],
    ["version", "services", { id: 2, version: 3 }, { services: [{ id: 2, version: 1 }] }],
    ["slot-taken", undefined, { startsAt: "2025-07-29 10:30:00" }, { slots: [{ time: "10:30" }] }],
    ["slot-taken", undefined, { startsAt: "2025-07-29 10:30:00" }, { slots: [{ time: "10:45" }] }],
  ] as const)("judges staleness like the harness (%s %s)", (kind, item, written, read) => {
    expect(k6.isStale(kind, item, written, read)).toBe(evaluateCheck(kind, item, written, read).stale);
  });
});
