import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { cycles, importGraph, type Resolve, resolver, sources } from "@apicache/testkit/import-graph";
import { describe, expect, it } from "vitest";

/**
 * No import cycle anywhere in the repository (issue #17): every workspace's sources, tests and
 * benchmarks, type-only imports included, with `@apicache/<package>[/<path>]` followed into the
 * package's own sources, so a cycle between packages counts too.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const workspaces: string[] = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).workspaces;

/** `@apicache/crds` → crds/src/index.ts, `@apicache/testkit/wait` → testkit/src/wait.ts. */
function packageEntries(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const dir of workspaces) {
    const { name } = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
    entries.set(name, dir);
  }
  return entries;
}

const packages = packageEntries();
const relativeOnly = resolver(root);
const follow: Resolve = (file, specifier) => {
  const local = relativeOnly(file, specifier);
  if (local !== undefined) return local;
  const [scope, name, ...rest] = specifier.split("/");
  const dir = packages.get(`${scope}/${name}`);
  if (dir === undefined) return undefined;
  const target = join(dir, "src", rest.length === 0 ? "index.ts" : `${rest.join("/")}.ts`);
  return existsSync(join(root, target)) ? target : undefined;
};

const files = [...workspaces, "hack"].flatMap((dir) => sources(join(root, dir), { tests: true }));
const graph = importGraph(files, root, follow);

describe("the repository's import graph", () => {
  it("reads every workspace and follows imports between packages", () => {
    expect(graph.size).toBeGreaterThan(500);
    const sidecarIndex = graph.get("sidecar/src/index.ts") ?? [];
    expect(sidecarIndex).toContain("crds/src/index.ts");
    expect(relative(root, files[0] ?? "")).not.toMatch(/^\.\./);
  });

  it("has no import cycle, type-only imports included", () => {
    expect(cycles(graph).map((cycle) => cycle.join(" → "))).toEqual([]);
  });
});
