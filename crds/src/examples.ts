import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The example manifests in crds/examples/, with what each must produce. Invalid examples say so in
 * leading comments: `# expect-path: <field path>` and `# expect: <message substring>`.
 *   invalid-*.yaml           rejected by the API server (schema, CEL) and by the parser
 *   semantic-invalid-*.yaml  accepted by the API server, rejected by the parser (and so the operator)
 *   anything else            valid everywhere
 */
export interface Example {
  readonly file: string;
  readonly path: string;
  readonly text: string;
  readonly kind: "valid" | "invalid" | "semantic-invalid";
  readonly expectPath?: string;
  readonly expectMessage?: string;
}

export const EXAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "examples");

export function loadExamples(dir = EXAMPLES_DIR): Example[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const text = readFileSync(path, "utf8");
      const kind = file.startsWith("invalid-")
        ? "invalid"
        : file.startsWith("semantic-invalid-")
          ? "semantic-invalid"
          : "valid";
      const expectPath = /^# expect-path: (.*)$/m.exec(text)?.[1]?.trim();
      const expectMessage = /^# expect: (.*)$/m.exec(text)?.[1]?.trim();
      return {
        file,
        path,
        text,
        kind,
        ...(expectPath ? { expectPath } : {}),
        ...(expectMessage ? { expectMessage } : {}),
      };
    });
}
