import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  SIDECAR_MEMORY_LIMIT,
  SIDECAR_MEMORY_LIMIT_TEXT,
  sidecarMemoryLimitBytes,
} from "./sidecar-memory.js";

const MI = 1024 * 1024;
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("the sidecar's default memory limit", () => {
  it("is twice the L1 budget plus 160 MiB, at least 256 MiB", () => {
    expect(sidecarMemoryLimitBytes(64 * MI)).toBe(288 * MI);
    expect(sidecarMemoryLimitBytes(48 * MI)).toBe(256 * MI);
    expect(sidecarMemoryLimitBytes(1 * MI)).toBe(256 * MI);
    expect(sidecarMemoryLimitBytes(0)).toBe(256 * MI);
  });

  // Every place that states the default says the same: the factor and the base, from the constants.
  const factor = `(${SIDECAR_MEMORY_LIMIT.l1Factor} ×|${SIDECAR_MEMORY_LIMIT.l1Factor === 2 ? "twice" : "-"})`;
  const stated = new RegExp(
    `${factor}[^|]{0,60}?maxBytes\`?\\s+\\+\\s+${SIDECAR_MEMORY_LIMIT.baseBytes / MI}Mi,?\\s+at\\s+least\\s+${SIDECAR_MEMORY_LIMIT.minBytes / MI}Mi`,
  );
  const stale = /maxBytes`? (\+|plus) 128Mi|L1 budget \+ 64 MiB;/;

  it.each([
    "docs/operator.md",
    "docs/install.md",
    "docs/load-testing.md",
    "docs/cachepolicy.md",
    "charts/apicache/values.yaml",
    "crds/apicache.io_cachepolicies.yaml",
  ])("is stated as %s says it, with no older formula left", (path) => {
    const text = read(path);
    expect(text).toMatch(stated);
    expect(text).not.toMatch(stale);
  });

  it("reads as the CRD's description states it", () => {
    expect(SIDECAR_MEMORY_LIMIT_TEXT).toMatch(stated);
  });
});
