import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The import graph of TypeScript sources, read from their import statements (for the architecture
 * tests: no cycle, one home per concern). Paths are relative to the `root` given.
 */

/** Every `.ts` file under `dir` (no `node_modules`, `dist` or dot folders); tests only if asked. */
export function sources(dir: string, options: { readonly tests?: boolean } = {}): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const skip = entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".");
      return skip ? [] : sources(path, options);
    }
    const isSource = entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts");
    return isSource && (options.tests || !entry.name.endsWith(".test.ts")) ? [path] : [];
  });
}

/** Every import: `… from "x"` (import and export), `import "x"`, `import("x")`. */
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g;
/** The type-only ones among them (`import type …`, `export type …`): erased at run time. */
const TYPE_ONLY = /\b(?:import|export)\s+type\s[^;]*?from\s*["']([^"']+)["']/g;

/**
 * Where a specifier leads, as a file relative to `root`: relative specifiers by path (`.js` → `.ts`),
 * others through `packages` (a workspace package's name → its entry file); undefined for the rest.
 */
export type Resolve = (file: string, specifier: string) => string | undefined;

export function resolver(root: string, packages: ReadonlyMap<string, string> = new Map()): Resolve {
  return (file, specifier) => {
    if (specifier.startsWith("./") || specifier.startsWith("../"))
      return relative(root, resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
    return packages.get(specifier);
  };
}

function targetsOf(file: string, pattern: RegExp, to: Resolve): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(pattern)].flatMap((match) => to(file, match[1] as string) ?? []);
}

/** Source file (relative to root) → the files it imports (relative to root). */
export function importGraph(
  files: readonly string[],
  root: string,
  to = resolver(root),
): Map<string, string[]> {
  return new Map(files.map((file) => [relative(root, file), targetsOf(file, IMPORT, to)]));
}

/** The files `file` imports at run time (each import minus the type-only ones). */
export function valueImports(file: string, root: string, to = resolver(root)): string[] {
  const values = targetsOf(file, IMPORT, to);
  for (const typeOnly of targetsOf(file, TYPE_ONLY, to)) values.splice(values.indexOf(typeOnly), 1);
  return values;
}

/** Every cycle found by a depth-first walk, each as the path that closes it. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
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
