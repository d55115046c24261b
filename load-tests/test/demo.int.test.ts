import { spawnTracked } from "@apicache/testkit/processes";
import { waitFor } from "@apicache/testkit/wait";
import { describe, expect, it } from "vitest";
import { parseComparisonTable } from "../src/harness/table.js";

const REPO = new URL("../../", import.meta.url).pathname;
const ENDPOINTS = ["slots", "analytics", "dashboard", "profile", "catalog"];

describe("make demo (short mode)", () => {
  it("starts the demo API and the sidecar, runs the load and prints an improvement row per endpoint type", async () => {
    const demo = spawnTracked(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "load-tests/src/demo/main.ts"],
      {
        cwd: REPO,
        env: { ...process.env, APICACHE_DEMO_SHORT: "1" },
      },
    );
    try {
      await waitFor("the demo to finish", () => demo.child.exitCode !== null, {
        timeoutMs: 110_000,
        intervalMs: 200,
      });
      const output = demo.output();
      expect(demo.child.exitCode, output).toBe(0);
      const rows = parseComparisonTable(output);
      expect(rows.map((r) => r.endpoint)).toEqual(expect.arrayContaining(ENDPOINTS));
      for (const endpoint of ENDPOINTS) {
        const row = rows.find((r) => r.endpoint === endpoint);
        const [direct, sidecar] = (row?.cells["requests (direct / sidecar)"] ?? "0 / 0")
          .split(" / ")
          .map(Number);
        expect(direct, `${endpoint} direct requests`).toBeGreaterThan(0);
        expect(sidecar, `${endpoint} sidecar requests`).toBeGreaterThan(0);
        // The sidecar path was primed, so every endpoint type is served from the cache at least once.
        expect(row?.hitRatio, `${endpoint} hit ratio`).toBeGreaterThan(0);
      }
      expect(output).toMatch(/Failed responses: 0; reads checked after a write: \d+, stale: 0\./);
      // The rate comes from the calibration at start, and the API counted fewer statements behind the cache.
      expect(output).toMatch(/the demo runs at 30% of that/);
      const db = /Database work: ([\d.]+) SQL statements\/s directly, ([\d.]+)\/s through the sidecar/.exec(
        output,
      );
      expect(db, output).not.toBeNull();
      expect(Number(db?.[1])).toBeGreaterThan(Number(db?.[2]));
      expect(output).toMatch(
        /Capacity \(quick probes of 2 s, p95 ≤ \d+ ms, no failed response\): directly ≥? ?[\d.]+ requests\/s, through the sidecar ≥? ?[\d.]+ requests\/s/,
      );
    } finally {
      await demo.stop();
    }
  }, 120_000);
});
