import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { shippedAlertNames } from "./fault-alerts.js";
import { FAULTS, renderOperationsTable, TABLE_END, TABLE_START } from "./fault-table.js";

// docs/operations.md against the fault suite's table (fault-table.ts) and the shipped rules: the
// faults table is the suite's own list, and every alert the guide names exists. An integration-tier
// file (no processes), so a drift fails `make test-integration` too, not only `make test-faults`.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const doc = readFileSync(join(ROOT, "docs", "operations.md"), "utf8");
const monitoring = readFileSync(join(ROOT, "docs", "monitoring.md"), "utf8");

describe("docs/operations.md", () => {
  it("carries the fault suite's table as fault-table.ts renders it", () => {
    const start = doc.indexOf(TABLE_START);
    const end = doc.indexOf(TABLE_END);
    expect(start, `the marker ${TABLE_START}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const copy = doc.slice(start + TABLE_START.length, end).trim();
    expect(copy, "regenerate the block from renderOperationsTable()").toBe(renderOperationsTable());
  });

  it("names only alerts the shipped rules define, each linked to its runbook", () => {
    const alerts = new Set(shippedAlertNames());
    const named = [...doc.matchAll(/\[(Apicache\w+)\]\(monitoring\.md#(\w+)\)/g)];
    expect(named.length).toBeGreaterThan(FAULTS.length);
    for (const [, name, anchor] of named) {
      expect(alerts, `${name}`).toContain(name);
      expect(anchor).toBe(name?.toLowerCase());
      expect(monitoring).toContain(`### ${name}`);
    }
    const bare = [...doc.matchAll(/\bApicache\w+/g)].map((m) => m[0]);
    for (const name of bare) expect(alerts, `${name}`).toContain(name);
  });

  it("is linked from the README", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("(docs/operations.md)");
  });
});
