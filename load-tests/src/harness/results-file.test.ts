import { describe, expect, it } from "vitest";
import { replaceSection } from "./results-file.js";

describe("replaceSection", () => {
  const doc =
    "# Results\n\n## Sidecar micro-benchmark\n\ntheirs\n\n## Side-by-side load test\n\nold\n\n## Operator\n\nalso theirs\n";

  it("replaces only its own section and keeps the others intact", () => {
    const next = replaceSection(doc, "## Side-by-side load test", "new table");
    expect(next).toContain("## Sidecar micro-benchmark\n\ntheirs");
    expect(next).toContain("## Operator\n\nalso theirs");
    expect(next).toContain("## Side-by-side load test\n\nnew table\n");
    expect(next).not.toContain("old");
  });

  it("appends the section when it is missing", () => {
    expect(replaceSection("# Results\n", "## Side-by-side load test", "t")).toBe(
      "# Results\n\n## Side-by-side load test\n\nt\n",
    );
  });

  it("is stable when applied twice", () => {
    const once = replaceSection(doc, "## Side-by-side load test", "x");
    expect(replaceSection(once, "## Side-by-side load test", "x")).toBe(once);
  });
});
