import { existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * load-tests/results.md holds several sections written by different tools; this replaces one
 * `## ` section (creating the file or appending the section if missing) and leaves the others intact.
 */
export function replaceSection(document: string, heading: string, body: string): string {
  const section = `${heading}\n\n${body.trim()}\n`;
  const lines = document.split("\n");
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) {
    const trimmed = document.trimEnd();
    return `${trimmed}${trimmed ? "\n\n" : ""}${section}`;
  }
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (end < 0) end = lines.length;
  const before = lines.slice(0, start).join("\n");
  const after = lines.slice(end).join("\n");
  return `${before}${before ? "\n" : ""}${section}${after ? `\n${after}` : ""}`;
}

export const RESULTS_PREAMBLE = `# Load-test results

Measured results of apicache's benchmarks. Each section says how it was produced and how to reproduce it.
`;

export function writeSection(file: string, heading: string, body: string): void {
  const current = existsSync(file) ? readFileSync(file, "utf8") : RESULTS_PREAMBLE;
  writeFileSync(file, replaceSection(current, heading, body));
}
