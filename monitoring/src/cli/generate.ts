/**
 * Writes the monitoring files (`npx tsx --conditions=source monitoring/src/cli/generate.ts [--check]`).
 * `make manifests` writes them through hack/generate.ts; this entry point serves `make rules-test` and
 * anyone working on monitoring/ alone. With --check it writes nothing and fails on drift.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedMonitoringFiles } from "../index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const check = process.argv.includes("--check");
let drift = 0;
for (const file of generatedMonitoringFiles()) {
  const path = join(root, file.path);
  let current: string | undefined;
  try {
    current = readFileSync(path, "utf8");
  } catch {
    current = undefined;
  }
  if (current === file.content) continue;
  if (check) {
    console.error(`drift: ${file.path} differs from its generator (run make manifests)`);
    drift++;
  } else {
    writeFileSync(path, file.content);
    console.log(`wrote ${file.path}`);
  }
}
process.exitCode = drift > 0 ? 1 : 0;
