import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { importGraph, sources } from "@apicache/testkit/import-graph";
import { describe, expect, it } from "vitest";

/**
 * The sidecar's layering (issue #17): telemetry is a leaf that everything else calls, and the HTTP-cache
 * core owns its vocabulary. Reads the import statements of every source file (tests excluded),
 * type-only imports included.
 */
const src = dirname(fileURLToPath(import.meta.url));
const graph = importGraph(sources(src), src);
const folderOf = (file: string) => (file.includes("/") ? (file.split("/")[0] as string) : ".");

/** Each file of `folder` that imports from one of `refused`, with the refused file it imports. */
function importsInto(folder: string, refused: readonly string[]): string[] {
  return [...graph.entries()]
    .filter(([file]) => folderOf(file) === folder)
    .flatMap(([file, targets]) =>
      targets.filter((target) => refused.includes(folderOf(target))).map((target) => `${file} → ${target}`),
    );
}

describe("the sidecar's layering", () => {
  it("reads the telemetry and http-cache folders (the scan itself)", () => {
    expect([...graph.keys()]).toContain("telemetry/request-observer.ts");
    expect(graph.get("telemetry/request-observer.ts")).toContain("http-cache/cache-outcome.ts");
    expect(importsInto("telemetry", ["http-cache"])).not.toEqual([]);
  });

  it("keeps telemetry a leaf: nothing of the proxy, the admin API, warming, reloading or the store", () => {
    expect(importsInto("telemetry", ["proxy", "admin", "warm", "reload", "store"])).toEqual([]);
  });

  it("keeps the HTTP-cache core free of telemetry and admin: their vocabulary comes from it", () => {
    expect(importsInto("http-cache", ["telemetry", "admin", "proxy"])).toEqual([]);
  });
});
