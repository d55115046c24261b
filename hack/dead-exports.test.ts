import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findDeadExports } from "./dead-exports.js";

/** A small project laid out as the repository is: judged sources in src/, an importer beside them. */
const root = mkdtempSync(join(tmpdir(), "apicache-dead-exports-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const files: Record<string, string> = {
  "tsconfig.json": JSON.stringify({
    compilerOptions: {
      module: "esnext",
      moduleResolution: "bundler",
      target: "es2022",
      types: [],
      noEmit: true,
    },
    include: ["**/*.ts"],
  }),
  "src/lib.ts": [
    "export const used = 1;",
    "export const localOnly = 2;",
    "export const dead = 3;",
    "export function viaBarrel(): number { return localOnly; }",
    "export type DeadType = string;",
    "const listed = 4;",
    "export { listed };",
  ].join("\n"),
  "src/barrel.ts": 'export * from "./lib.js";\nexport { dead as deadAgain } from "./lib.js";\n',
  "src/namespace.ts": "export const one = 1;\nexport const two = 2;\n",
  "src/dynamic.ts": "export const later = 1;\n",
  "main.ts": [
    'import { listed, used } from "./src/lib.js";',
    'import { viaBarrel } from "./src/barrel.js";',
    'import * as ns from "./src/namespace.js";',
    'void import("./src/dynamic.js");',
    "export const total = used + listed + viaBarrel() + ns.one;",
  ].join("\n"),
};
for (const [path, text] of Object.entries(files)) {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), text);
}

describe("findDeadExports", () => {
  const dead = findDeadExports({
    root,
    tsconfig: join(root, "tsconfig.json"),
    judged: (file) => file.startsWith("src/"),
  });

  it("reports what nothing imports nor uses, and a re-export nobody imports through", () => {
    expect(dead).toEqual([
      { file: "src/barrel.ts", name: "deadAgain" },
      { file: "src/lib.ts", name: "dead" },
      { file: "src/lib.ts", name: "DeadType" },
    ]);
  });

  it("keeps what is imported directly, through a barrel, a namespace or import(), or used where it stands", () => {
    const names = dead.map((found) => found.name);
    for (const kept of ["used", "listed", "viaBarrel", "one", "two", "later", "localOnly"]) {
      expect(names).not.toContain(kept);
    }
  });

  it("judges only the files it is told to", () => {
    expect(dead.map((found) => found.file)).not.toContain("main.ts");
  });
});
