/**
 * Review reproducer: architecture.test.ts's import scan has blind spots (expected to FAIL). No source
 * file uses these forms today, so the layout checks pass — but a cycle or a kube/ → webhook/
 * dependency written this way would pass them too.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importGraph } from "./architecture.test.js";

describe("review: the import scan of architecture.test.ts", () => {
  const dir = mkdtempSync(join(tmpdir(), "arch-"));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("sees a dynamic import", () => {
    const path = file("dynamic.ts", 'export async function f() {\n  return (await import("./target.js")).x;\n}\n');
    expect([...importGraph([path]).values()][0]).toHaveLength(1);
  });

  it("sees a side-effect import", () => {
    const path = file("side-effect.ts", 'import "./target.js";\nexport const y = 1;\n');
    expect([...importGraph([path]).values()][0]).toHaveLength(1);
  });
});
