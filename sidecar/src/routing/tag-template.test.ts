import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../store/memory-store.js";
import { splitTarget } from "./normalize-path.js";
import { compileTagTemplate, pathSegments } from "./path-matcher.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap growth while L1 keeps 2,000 entries whose one tag came from a 16 KiB request target each. */
function heapKeptByTags(template: string): number {
  const tag = compileTagTemplate(template);
  gc();
  const before = process.memoryUsage().heapUsed;
  const store = new MemoryStore({ maxBytes: 64 * 1024 * 1024 });
  for (let i = 0; i < 2_000; i++) {
    const target = `/api/items/item-${String(i).padStart(12, "0")}?q=${"x".repeat(16_000)}${i}`;
    const id = pathSegments(splitTarget(target).path)[2] as string;
    store.put(`k${i}`, Buffer.alloc(10), { ttlMs: 60_000, tags: [tag({ id })] });
  }
  gc();
  const kept = process.memoryUsage().heapUsed - before;
  expect(store.entries).toBe(2_000);
  return kept;
}

describe("a tag template", () => {
  describe.each(["{id}", "item:{id}"])("like %s, filled from a long request target", (template) => {
    it("keeps none of the target alive in L1 beyond the tag itself", () => {
      // 2,000 targets of 16 KiB are 32 MiB; the entries themselves need well under 4 MiB.
      expect(heapKeptByTags(template)).toBeLessThan(4 * 1024 * 1024);
    });
  });

  it("fills the same text either way", () => {
    expect(compileTagTemplate("{id}")({ id: "item-000000000001" })).toBe("item-000000000001");
  });
});
