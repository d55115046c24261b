import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cycles, importGraph, sources, valueImports } from "@apicache/testkit/import-graph";
import { describe, expect, it } from "vitest";

/**
 * The operator's layout (issue #13): one home per concern, index.ts only composes, no import cycle.
 * Reads the import statements of every source file (tests excluded), type-only imports included.
 */
const src = dirname(fileURLToPath(import.meta.url));

const graph = importGraph(sources(src), src);
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
    expect(names([...importGraph([file], dir).values()][0] ?? [])).toEqual([
      "dynamic.ts",
      "multi-line.ts",
      "re-export.ts",
      "side-effect.ts",
      "type-re-export.ts",
      "types.ts",
    ]);
    expect(names(valueImports(file, dir))).toEqual([
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
        const values = new Set(valueImports(join(src, file), src));
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
