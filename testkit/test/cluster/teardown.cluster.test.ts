import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTool } from "../../src/cluster/kubectl.js";
import { repoRoot } from "../../src/kube/tools.js";

// The tier's global teardown compares host snapshots and throws when cluster-down left something
// behind. Vitest 4 only logs an error thrown there and exits 0; this runs a throwaway vitest project
// whose global teardown fails through the same helper, and checks that the run fails.
const scratch = mkdtempSync(join(tmpdir(), "apicache-teardown-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function runVitestWithTeardown(body: string) {
  const vitest = join(repoRoot, "node_modules", "vitest");
  writeFileSync(
    join(scratch, "vitest.config.mts"),
    `import { defineConfig } from ${JSON.stringify(join(vitest, "dist", "config.js"))};
export default defineConfig({ test: { include: ["*.check.test.mts"], globalSetup: ["./setup.mts"] } });
`,
  );
  writeFileSync(
    join(scratch, "a.check.test.mts"),
    `import { expect, it } from ${JSON.stringify(join(vitest, "dist", "index.js"))};
it("passes", () => expect(1).toBe(1));
`,
  );
  writeFileSync(
    join(scratch, "setup.mts"),
    `import { failRunOnError } from ${JSON.stringify(join(repoRoot, "testkit", "src", "cluster", "fail-run.ts"))};
export default async function setup() {
  return failRunOnError(async () => { ${body} });
}
`,
  );
  return runTool(
    process.execPath,
    [join(vitest, "vitest.mjs"), "run", "--root", scratch, "--config", join(scratch, "vitest.config.mts")],
    { timeoutMs: 60_000 },
  );
}

describe("the cluster tier's global teardown", () => {
  it("fails the vitest run when it throws (e.g. the host was left changed)", async () => {
    const run = await runVitestWithTeardown('throw new Error("the host was left changed (simulated)");');
    expect(`${run.stdout}${run.stderr}`).toContain("the host was left changed (simulated)");
    expect(run.code).toBe(1);
  });

  it("lets the run pass when it does not", async () => {
    const run = await runVitestWithTeardown("");
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
  });
});
