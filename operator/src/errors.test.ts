import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OPERATOR_ERROR_CODES } from "./errors.js";

const catalog = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
const section = catalog.split(/^## /m).find((part) => part.startsWith("Operator errors")) ?? "";

describe("the operator's error codes", () => {
  it("have an Operator errors section in docs/errors.md", () => {
    expect(section).not.toBe("");
  });

  it.each(Object.values(OPERATOR_ERROR_CODES))("documents %s there", (code) => {
    expect(section).toContain(`\`${code}\``);
  });

  it("are unique and operator-prefixed", () => {
    const codes = Object.values(OPERATOR_ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^APICACHE_ERR_OPERATOR_[A-Z_]+$/);
  });
});
