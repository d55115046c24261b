import { replaceSection } from "@apicache/load-tests/harness/results-file";
import { describe, expect, it } from "vitest";
import { MULTI_SECTION_HEADING, summarizePropagation } from "./multi-report.js";
import { formatMultiSection, type MultiRun } from "./multi-section.js";

const base: MultiRun = {
  date: "2026-12-07T00:00:00Z",
  machine: "2 CPUs",
  command: "make bench-multi",
  replicas: 3,
};

const propagation: MultiRun["propagation"] = {
  summary: summarizePropagation(
    [{ reader: 1, freshMs: 0.4, staleMs: -0.3, freshFromResponseMs: -0.2, staleAfterResponse: 0 }],
    1,
  ),
  probeP50Ms: 0.2,
  pushedEvictions: 3,
};

describe("formatMultiSection", () => {
  it("holds only the parts that ran", () => {
    const text = formatMultiSection({ ...base, propagation });
    expect(text).toContain("### Invalidation propagation to the other replicas' L1");
    expect(text).toContain("rose by 3");
    expect(text).not.toContain("### L1 hit vs Redis hit");
    expect(text).not.toContain("### Hit ratio");
  });

  it("says how it was produced", () => {
    expect(formatMultiSection(base)).toMatch(
      /^Measured 2026-12-07T00:00:00Z on 2 CPUs\.\n\nCommand: `make bench-multi`/,
    );
  });

  it("has no second-level heading of its own, so rewriting it stops at the next section", () => {
    expect(
      formatMultiSection({ ...base, propagation })
        .split("\n")
        .some((l) => l.startsWith("## ")),
    ).toBe(false);
  });

  it("warns when a hits row was not served by hits", () => {
    const hits: MultiRun["hits"] = {
      connections: 18,
      durationSeconds: 2,
      rounds: 3,
      results: [],
      served: [{ name: "Redis hit ×3", requests: 100, hits: 60, redisReads: 40 }],
      descriptions: [],
    };
    expect(formatMultiSection({ ...base, hits })).toContain(
      "**Not every response was a hit** in Redis hit ×3",
    );
  });
});

describe("the section in load-tests/results.md", () => {
  const document = [
    "# Load-test results",
    "",
    "## Sidecar micro-benchmark",
    "",
    "theirs",
    "",
    MULTI_SECTION_HEADING,
    "",
    "the previous run",
    "",
    "## Operator benchmark",
    "",
    "also theirs",
    "",
  ].join("\n");

  it("replaces the previous run and leaves the other sections as they were", () => {
    const next = replaceSection(
      document,
      MULTI_SECTION_HEADING,
      formatMultiSection({ ...base, propagation }),
    );
    expect(next).not.toContain("the previous run");
    expect(next).toContain("## Sidecar micro-benchmark\n\ntheirs\n");
    expect(next).toContain("## Operator benchmark\n\nalso theirs\n");
    expect(next).toContain(`${MULTI_SECTION_HEADING}\n\nMeasured 2026-12-07T00:00:00Z`);
    expect(replaceSection(next, MULTI_SECTION_HEADING, formatMultiSection({ ...base, propagation }))).toBe(
      next,
    );
  });
});
