import { describe, expect, it } from "vitest";
import { ANCHOR_DATE } from "./demo-api/schema.js";
import { createSampler, dayFromAnchor, fill, paramDomain, readKeySpace } from "./sampler.js";
import { loadScenario } from "./scenario-files.js";

describe("createSampler", () => {
  it("issues the same stream for the same scenario (direct and sidecar runs match)", () => {
    const scenario = loadScenario("mixed");
    const a = createSampler(scenario);
    const b = createSampler(scenario);
    const take = (s: typeof a) =>
      Array.from({ length: 200 }, () => s.next()).map((r) => `${r.method} ${r.path} ${r.body ?? ""}`);
    expect(take(a)).toEqual(take(b));
  });

  it("issues writes at about the scenario's write ratio", () => {
    const sampler = createSampler(loadScenario("mixed"));
    const writes = Array.from({ length: 5000 }, () => sampler.next()).filter(
      (r) => r.endpoint === "write",
    ).length;
    expect(writes / 5000).toBeGreaterThan(0.08);
    expect(writes / 5000).toBeLessThan(0.12);
  });

  it("cancels only appointments it was given, and books instead while it has none", () => {
    const scenario = { ...loadScenario("mixed"), writeRatio: 1 };
    const sampler = createSampler(scenario);
    const first = Array.from({ length: 300 }, () => sampler.next());
    expect(first.some((r) => r.method === "DELETE")).toBe(false);
    sampler.give(4242);
    const later = Array.from({ length: 300 }, () => sampler.next()).filter((r) => r.method === "DELETE");
    expect(later.map((r) => r.path)).toEqual(["/api/v2/appointments/4242"]);
  });

  it("keeps numbers numbers in JSON bodies", () => {
    expect(fill({ barberId: "{b}", note: "for {b}" }, { b: 3 })).toEqual({ barberId: 3, note: "for 3" });
  });
});

describe("readKeySpace", () => {
  it("enumerates every distinct read, and the stream never leaves it", () => {
    const scenario = loadScenario("read-only");
    const keys = new Set(readKeySpace(scenario).map((r) => `${r.path} ${JSON.stringify(r.headers)}`));
    const sampler = createSampler(scenario);
    for (let i = 0; i < 2000; i++) {
      const r = sampler.next();
      expect(keys.has(`${r.path} ${JSON.stringify(r.headers)}`)).toBe(true);
    }
  });

  it("refuses a key space over the cap", () => {
    expect(() => readKeySpace(loadScenario("read-only"), 10)).toThrow(/more than 10 keys/);
  });
});

describe("params", () => {
  it("dates days relative to the dataset's anchor", () => {
    expect(dayFromAnchor(0)).toBe(ANCHOR_DATE);
    expect(dayFromAnchor(1)).toBe("2025-07-29");
    expect(paramDomain({ kind: "day", minOffset: -1, maxOffset: 0 })).toEqual(["2025-07-27", "2025-07-28"]);
  });

  it("drops choices of weight zero from the domain", () => {
    expect(paramDomain({ kind: "choice", values: ["a", "b"], weights: [0, 1] })).toEqual(["b"]);
  });
});
