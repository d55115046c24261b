import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type KubernetesObject, loadYaml, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";

/**
 * The generated CRD and the examples, read from whatever is in crds/ when the tests run.
 * Documents go through client-node's loadYaml: its typed serializer only knows model property names
 * (x_kubernetes_validations), so a plain parsed object would lose every `x-kubernetes-*` key on the way
 * to the API server.
 */
export const crdsDir: string = fileURLToPath(new URL("../../", import.meta.url));
export const crdPath: string = join(crdsDir, "apicache.io_cachepolicies.yaml");
export const examplesDir: string = join(crdsDir, "examples");

export interface Example {
  readonly file: string;
  readonly objects: readonly KubernetesObject[];
  /** From `# expect: <substring>` lines in the leading comment (invalid-*.yaml). */
  readonly expect: readonly string[];
}

export function loadCrd(): V1CustomResourceDefinition {
  if (!existsSync(crdPath)) {
    throw new Error(
      `${crdPath} does not exist: generate it with \`make manifests\` (the CRD e2e tests apply it to the API server)`,
    );
  }
  const [doc, ...rest] = parseAllDocuments(readFileSync(crdPath, "utf8")).filter((d) => d.contents !== null);
  if (doc === undefined || rest.length > 0) throw new Error(`${crdPath} must hold exactly one YAML document`);
  return loadYaml<V1CustomResourceDefinition>(String(doc));
}

/** `# expect:` values in the comment block before the first YAML line. */
export function expectedMessages(text: string): string[] {
  const expected: string[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed === "---") continue;
    if (!trimmed.startsWith("#")) break;
    const match = /^#\s*expect:\s*(.+?)\s*$/.exec(trimmed);
    if (match?.[1] !== undefined) expected.push(match[1]);
  }
  return expected;
}

function loadExample(file: string): Example {
  const text = readFileSync(join(examplesDir, file), "utf8");
  const objects = parseAllDocuments(text)
    .filter((doc) => doc.contents !== null)
    .map((doc) => loadYaml<KubernetesObject>(String(doc)));
  return { file, objects, expect: expectedMessages(text) };
}

/** crds/examples/*.yaml split into what the API server must accept and what it must reject. */
export function loadExamples(): { accepted: Example[]; rejected: Example[] } {
  const files = existsSync(examplesDir)
    ? readdirSync(examplesDir)
        .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
        .sort()
    : [];
  const examples = files.map(loadExample);
  return {
    accepted: examples.filter((e) => !e.file.startsWith("invalid-")),
    rejected: examples.filter((e) => e.file.startsWith("invalid-")),
  };
}
