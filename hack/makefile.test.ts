import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// What `make` would run on a machine that has never seen the project: every cache empty. The test
// command once skipped the tool build because `$(TEST_PREREQS)` was expanded before the fragments that
// append to it were read; CI passed only because its tools cache was warm.
const emptyCache = mkdtempSync(join(tmpdir(), "apicache-empty-cache-"));
afterAll(() => rmSync(emptyCache, { recursive: true, force: true }));

function dryRun(target: string): string[] {
  const result = spawnSync("make", ["-n", target], {
    cwd: join(import.meta.dirname, ".."),
    encoding: "utf8",
    env: { ...process.env, APICACHE_TOOLS_DIR: emptyCache, XDG_CACHE_HOME: emptyCache, MAKEFLAGS: "" },
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.split("\n");
}

const indexOf = (lines: string[], pattern: RegExp) => lines.findIndex((line) => pattern.test(line));

describe("make on a fresh machine", () => {
  it("builds the tools and the images before `make test` runs any test", () => {
    const lines = dryRun("test");
    const tools = indexOf(lines, /hack\/tools\.sh install/);
    const images = indexOf(lines, /hack\/images\.sh build/);
    const tests = indexOf(lines, /vitest run/);
    expect(tools).toBeGreaterThanOrEqual(0);
    expect(images).toBeGreaterThanOrEqual(0);
    expect(tests).toBeGreaterThan(Math.max(tools, images));
  });

  it("builds the tools before `make cluster-up` starts the cluster", () => {
    const lines = dryRun("cluster-up");
    expect(indexOf(lines, /cluster\/cli\.ts up/)).toBeGreaterThan(indexOf(lines, /hack\/tools\.sh install/));
  });
});
