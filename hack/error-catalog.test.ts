import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CRDS_ERROR_CODES } from "@apicache/crds";
import { OPERATOR_ERROR_CODES } from "@apicache/operator/errors";
import { ERROR_CODES } from "@apicache/sidecar/errors";
import { STORE_ERROR_CODES } from "@apicache/sidecar/store/errors";
import { describe, expect, it } from "vitest";

/**
 * docs/errors.md documents every code of every program (ADR 0032): one `### APICACHE_ERR_…` heading
 * per code of the four tables (crds, sidecar, its stores, operator), in its program's section, and no
 * heading for a code that does not exist.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const catalog = readFileSync(join(root, "docs", "errors.md"), "utf8");

const TABLES = {
  crds: Object.values(CRDS_ERROR_CODES),
  sidecar: Object.values(ERROR_CODES),
  store: [...STORE_ERROR_CODES],
  operator: Object.values(OPERATOR_ERROR_CODES),
} as const satisfies Record<string, readonly string[]>;
const ALL_CODES: readonly string[] = Object.values(TABLES).flat();

/** The `### CODE` headings of the `## …` sections whose title starts with `title` (all without). */
function headings(title = ""): string[] {
  const sections = catalog.split(/^## /m).filter((part) => part.startsWith(title));
  return sections.flatMap((part) =>
    [...part.matchAll(/^### (APICACHE_ERR_[A-Z0-9_]+)$/gm)].map((m) => m[1] as string),
  );
}

/** Every `APICACHE_ERR_*` literal in an errors.ts of a program's sources: each belongs to a table. */
function declaredInErrorFiles(): string[] {
  return ["crds/src", "sidecar/src", "operator/src"].flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
      .filter((file) => file === "errors.ts" || file.endsWith("/errors.ts"))
      .flatMap((file) =>
        [...readFileSync(join(root, dir, file), "utf8").matchAll(/"(APICACHE_ERR_[A-Z0-9_]+)"/g)].map(
          (m) => m[1] as string,
        ),
      ),
  );
}

describe("the error catalog (docs/errors.md)", () => {
  it.each(ALL_CODES)("documents %s under its own heading", (code) => {
    expect(headings().filter((heading) => heading === code)).toEqual([code]);
  });

  it("documents no code that does not exist", () => {
    expect(headings().filter((code) => !ALL_CODES.includes(code))).toEqual([]);
  });

  it("documents the operator's codes, and only those, under Operator errors", () => {
    expect(headings("Operator errors").sort()).toEqual([...TABLES.operator].sort());
  });

  it("documents the stores' codes, and only those, under Store errors", () => {
    expect(headings("Store errors").sort()).toEqual([...TABLES.store].sort());
  });

  it("knows every code declared in an errors.ts of crds, sidecar and operator", () => {
    expect([...new Set(declaredInErrorFiles())].filter((code) => !ALL_CODES.includes(code))).toEqual([]);
  });
});

describe("the error code tables", () => {
  it("share no code", () => {
    expect(new Set(ALL_CODES).size).toBe(ALL_CODES.length);
  });

  it.each(Object.entries(TABLES))("%s: every code is APICACHE_ERR_ and upper case", (_table, codes) => {
    for (const code of codes) expect(code).toMatch(/^APICACHE_ERR_[A-Z0-9_]+$/);
  });

  it("prefix the operator's codes with APICACHE_ERR_OPERATOR_ and the stores' with APICACHE_ERR_STORE_", () => {
    for (const code of TABLES.operator) expect(code).toMatch(/^APICACHE_ERR_OPERATOR_[A-Z_]+$/);
    for (const code of TABLES.store) expect(code).toMatch(/^APICACHE_ERR_STORE_[A-Z_]+$/);
  });
});
