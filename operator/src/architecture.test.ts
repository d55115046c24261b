import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The operator's layout (issue #13): one home per concern, index.ts only composes, no import cycle.
 * Reads the import statements of every source file (tests excluded), type-only imports included.
 */
const src = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Every relative import: `… from "./x"` (import and export), `import "./x"`, `import("./x")`. */
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;
/** The type-only ones among them (`import type …`, `export type …`): erased at run time. */
const TYPE_ONLY = /\b(?:import|export)\s+type\s[^;]*?from\s*["'](\.{1,2}\/[^"']+)["']/g;

function targetsOf(file: string, pattern: RegExp): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(pattern)].map((match) =>
    relative(src, resolve(dirname(file), (match[1] as string).replace(/\.js$/, ".ts"))),
  );
}

/** Source file (relative to src) → the source files it imports (relative to src). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  return new Map(files.map((file) => [relative(src, file), targetsOf(file, IMPORT)]));
}

/** The files `file` imports at run time (each import minus the type-only ones). */
function valueImports(file: string): string[] {
  const values = targetsOf(file, IMPORT);
  for (const typeOnly of targetsOf(file, TYPE_ONLY)) values.splice(values.indexOf(typeOnly), 1);
  return values;
}

/** Every cycle found by a depth-first walk, each as the path that closes it. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const walk = (node: string, path: string[]) => {
    state.set(node, "open");
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) walk(next, [...path, next]);
    }
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) walk(node, [node]);
  return found;
}

const graph = importGraph(sources(src));
const folderOf = (file: string) => (file.includes("/") ? (file.split("/")[0] as string) : ".");

describe("the operator's layout", () => {
  it("finds a cycle when there is one (the check itself)", () => {
    const withCycle = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
    ]);
    expect(cycles(withCycle)).toEqual([["a.ts", "b.ts", "c.ts", "a.ts"]]);
    expect(cycles(new Map([["a.ts", ["b.ts"]]]))).toEqual([]);
  });

  it("sees every form of import (the scan itself): dynamic, side-effect, re-export, type-only", () => {
    const dir = mkdtempSync(join(tmpdir(), "apicache-architecture-"));
    const file = join(dir, "all-forms.ts");
    writeFileSync(
      file,
      [
        'import "./side-effect.js";',
        'import type { T } from "./types.js";',
        'export { v } from "./re-export.js";',
        "export type { U } from './type-re-export.js';",
        'import {\n  a,\n  b,\n} from "./multi-line.js";',
        'export async function load() {\n  return import("./dynamic.js");\n}',
      ].join("\n"),
    );
    const names = (list: string[]) => list.map((path) => path.slice(path.lastIndexOf("/") + 1)).sort();
    expect(names([...importGraph([file]).values()][0] ?? [])).toEqual([
      "dynamic.ts",
      "multi-line.ts",
      "re-export.ts",
      "side-effect.ts",
      "type-re-export.ts",
      "types.ts",
    ]);
    expect(names(valueImports(file))).toEqual([
      "dynamic.ts",
      "multi-line.ts",
      "re-export.ts",
      "side-effect.ts",
    ]);
  });

  it("has no import cycle in operator/src", () => {
    expect(graph.size).toBeGreaterThan(40);
    expect(cycles(graph).map((cycle) => cycle.join(" → "))).toEqual([]);
  });

  it("keeps index.ts to composition (at most 100 lines)", () => {
    const lines = readFileSync(join(src, "index.ts"), "utf8").trimEnd().split("\n").length;
    expect(lines).toBeLessThanOrEqual(100);
  });

  it("keeps kube/ to API adapters: from the core it takes only the ports it implements", () => {
    // A port: a type-only import (ClusterWriter, PolicyEvent), or the Lease port file (its errors are values).
    const offending = [...graph.keys()]
      .filter((file) => folderOf(file) === "kube")
      .flatMap((file) => {
        const values = new Set(valueImports(join(src, file)));
        return (graph.get(file) ?? [])
          .filter((target) => {
            const folder = folderOf(target);
            if (["webhook", "certs", "server"].includes(folder)) return true;
            if (folder !== "reconcile" && folder !== "leader") return false;
            return values.has(target) && target !== "leader/lease.ts";
          })
          .map((target) => `${file} → ${target}`);
      });
    expect(offending).toEqual([]);
  });

  it("keeps the pure core (inject/, policy/, status/) free of API clients and of the I/O folders", () => {
    const pure = ["inject", "policy", "status"];
    const offending = [...graph]
      .filter(([file]) => pure.includes(folderOf(file)))
      .flatMap(([file, targets]) =>
        targets
          .filter((target) => !pure.includes(folderOf(target)) && folderOf(target) !== ".")
          .map((target) => `${file} → ${target}`),
      )
      .concat(
        [...graph.keys()]
          .filter((file) => pure.includes(folderOf(file)))
          .filter((file) =>
            /from\s*["']@kubernetes\/client-node["']/.test(readFileSync(join(src, file), "utf8")),
          )
          .filter(
            (file) =>
              !/import type \{[^}]*\} from\s*["']@kubernetes\/client-node["']/.test(
                readFileSync(join(src, file), "utf8"),
              ),
          )
          .map((file) => `${file} imports @kubernetes/client-node values`),
      );
    expect(offending).toEqual([]);
  });

  it("keeps test fixtures out of src (they would ship in dist/)", () => {
    expect([...graph.keys()].filter((file) => /(^|\/)(testing|fixtures?)(\/|\.ts$)/.test(file))).toEqual([]);
  });
});
