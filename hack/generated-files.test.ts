import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generatedFiles, spliceBetween } from "./generated-files.js";

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

describe("spliceBetween", () => {
  const part = { start: "<!-- a:start -->", end: "<!-- a:end -->", body: "new" };

  it("replaces what lies between the markers and keeps the rest of the page", () => {
    expect(spliceBetween("intro\n<!-- a:start -->\nold\nolder\n<!-- a:end -->\nrest", part)).toBe(
      "intro\n<!-- a:start -->\nnew\n<!-- a:end -->\nrest",
    );
  });

  it("fails when a marker is gone, instead of dropping the generated part silently", () => {
    expect(() => spliceBetween("intro\n<!-- a:start -->\nold", part)).toThrow("markers");
  });
});
