import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { INVALID_POLICY_CODE } from "@apicache/crds";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "./errors.js";

const SRC = dirname(fileURLToPath(import.meta.url));
const CATALOG = join(SRC, "..", "..", "docs", "errors.md");

/** Every `APICACHE_ERR_*` code declared in an `errors.ts` anywhere under sidecar/src/. */
function declaredCodes(): string[] {
  const files = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter(
    (file) => file === "errors.ts" || file.endsWith("/errors.ts"),
  );
  const codes = files.flatMap((file) => [
    ...readFileSync(join(SRC, file), "utf8").matchAll(/"(APICACHE_ERR_[A-Z0-9_]+)"/g),
  ]);
  return [...new Set([...codes.map((match) => match[1] as string), INVALID_POLICY_CODE])].sort();
}

describe("the error catalog (docs/errors.md)", () => {
  const catalog = readFileSync(CATALOG, "utf8");
  const documented = new Set([...catalog.matchAll(/^### (APICACHE_ERR_[A-Z0-9_]+)$/gm)].map((m) => m[1]));

  it("finds the sidecar's own codes", () => {
    expect(declaredCodes()).toEqual(expect.arrayContaining(Object.values(ERROR_CODES)));
  });

  it.each(declaredCodes())("documents %s under its own heading", (code) => {
    expect(documented.has(code)).toBe(true);
  });

  it("documents no code that does not exist", () => {
    const declared = new Set(declaredCodes());
    expect([...documented].filter((code) => !declared.has(code as string))).toEqual([]);
  });
});
