import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "./generated-files.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = await generatedFiles();

describe("generated files", () => {
  it.each(files.map((f) => [f.path, f]))(
    "%s matches its generator (run `make manifests` if not)",
    async (_p, f) => {
      const committed = await readFile(join(root, f.path), "utf8").catch(() => "<missing>");
      expect(committed, `${f.path} has drifted: run \`make manifests\` and commit the result`).toBe(
        f.content,
      );
    },
  );
});
