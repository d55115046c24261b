import { spawnTracked } from "@apicache/testkit/processes";
import { waitFor } from "@apicache/testkit/wait";
import { describe, expect, it } from "vitest";

const REPO = new URL("../../", import.meta.url).pathname;

describe("make bench-capacity (a tiny run)", () => {
  it("searches both paths, then prints the capacity table, the equal-load table and the SQL statements saved", async () => {
    const run = spawnTracked(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        "load-tests/src/harness/capacity-main.ts",
        ...["--size", "tiny", "--store", "memory", "--window", "2", "--warmup", "0.5"],
        ...["--equal-window", "3", "--max-rate", "16", "--no-results"],
      ],
      { cwd: REPO },
    );
    try {
      await waitFor("bench-capacity to finish", () => run.child.exitCode !== null, {
        timeoutMs: 170_000,
        intervalMs: 200,
      });
      const output = run.output();
      expect(run.child.exitCode, output).toBe(0);
      expect(output).toMatch(/\| direct \| ≥? ?[\d.]+ \|/);
      expect(output).toMatch(/\| through the sidecar \| ≥? ?[\d.]+ \|/);
      expect(output).toMatch(/\*\*Capacity ratio: (≥ )?[\d.]+×\*\*|\*\*Capacity ratio: –/);
      expect(output).toContain("| Endpoint Type | Before (avg) | After (avg) |");
      expect(output).toMatch(/\| Available Slots \| .* \| 250 ms → 85 ms \(66% faster\) \|/);
      // The demo API counted its statements on both paths; behind a primed cache it ran fewer.
      const db =
        /\| direct \| ([\d.]+) \| ([\d.]+) \|[^\n]*\n\| through the sidecar \| ([\d.]+) \| ([\d.]+) \|/.exec(
          output,
        );
      expect(db, output).not.toBeNull();
      expect(Number(db?.[1])).toBeGreaterThan(Number(db?.[3]));
      expect(output).toMatch(/Database work saved at equal load: [\d.]+% fewer SQL statements per second/);
    } finally {
      await run.stop();
    }
  }, 180_000);
});
