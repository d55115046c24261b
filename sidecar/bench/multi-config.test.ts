import { describe, expect, it } from "vitest";
import { parseMultiConfig } from "./multi-config.js";

describe("parseMultiConfig", () => {
  describe("without flags", () => {
    it("runs all three parts with 3 replicas and at least 500 writes", () => {
      const parsed = parseMultiConfig([]);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      expect(parsed.config).toMatchObject({
        parts: ["hits", "propagation", "hit-ratio"],
        replicas: 3,
        writes: 500,
        size: "small",
        write: true,
      });
    });
  });

  it("keeps the parts asked for, in their order", () => {
    const parsed = parseMultiConfig(["--parts", "hit-ratio,hits", "--no-write"]);
    expect(parsed.ok && parsed.config.parts).toEqual(["hits", "hit-ratio"]);
    expect(parsed.ok && parsed.config.write).toBe(false);
  });

  describe("with bad values", () => {
    it("lists every problem", () => {
      const parsed = parseMultiConfig([
        "--parts",
        "hits,nope",
        "--replicas",
        "1",
        "--rate",
        "x",
        "--size",
        "huge",
      ]);
      expect(parsed.ok).toBe(false);
      if (parsed.ok) return;
      expect(parsed.problems).toEqual([
        '--parts: unknown part "nope" (hits, propagation, hit-ratio)',
        '--replicas must be a number from 2 to 8 (got "1")',
        '--rate must be a number from 0.1 to 1000 (got "x")',
        "--size must be one of tiny, small, default, large",
      ]);
    });

    it("refuses an unknown flag", () => {
      const parsed = parseMultiConfig(["--fast"]);
      expect(parsed.ok).toBe(false);
    });
  });

  it("asks for the usage with --help", () => {
    expect(parseMultiConfig(["--help"])).toEqual({ ok: false, problems: [], help: true });
  });
});
