import { describe, expect, it } from "vitest";
import { barrierKeys } from "./push-barrier.js";

describe("barrierKeys", () => {
  it("picks one key per node, the first it meets, so each node is asked once", () => {
    const node: Record<string, string> = { a: "n1", b: "n2", c: "n1", d: "n3", e: "n2" };
    expect(barrierKeys(["a", "b", "c", "d", "e"], (key) => node[key] as string)).toEqual(["a", "b", "d"]);
  });

  it("asks a standalone Redis (one node) once, however many keys changed", () => {
    expect(barrierKeys(["g1", "g2", "g3"], () => "")).toEqual(["g1"]);
  });

  it("asks nothing when nothing changed", () => {
    expect(barrierKeys([], () => "")).toEqual([]);
  });
});
