import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CRD_FILE,
  cachePolicyCrdYaml,
  cachePolicyReference,
  REFERENCE_FILE,
  SIDECAR_FLAG_TABLE_END,
  SIDECAR_FLAG_TABLE_START,
  sidecarFlagTable,
} from "@apicache/crds";
import { generatedMonitoringFiles } from "@apicache/monitoring";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SIDECAR_DOC = "docs/sidecar.md";

/**
 * Every generated file in the repository, with its generator. `make manifests` writes them
 * (hack/generate.ts); hack/generated-files.test.ts fails when a committed copy has drifted.
 * Paths are relative to the repository root.
 */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}

export async function generatedFiles(): Promise<GeneratedFile[]> {
  const crd = cachePolicyCrdYaml();
  return [
    { path: CRD_FILE, content: crd },
    { path: "charts/apicache/crds/apicache.io_cachepolicies.yaml", content: crd },
    { path: REFERENCE_FILE, content: cachePolicyReference() },
    ...generatedMonitoringFiles(),
    {
      path: SIDECAR_DOC,
      content: spliceBetween(await readFile(join(root, SIDECAR_DOC), "utf8"), {
        start: SIDECAR_FLAG_TABLE_START,
        end: SIDECAR_FLAG_TABLE_END,
        body: sidecarFlagTable(),
      }),
    },
  ];
}

/**
 * `doc` with what lies between the `start` and `end` marker lines replaced by `body`: a generated
 * part of a hand-written page. Throws when a marker is missing, so a lost marker fails the drift test.
 */
export function spliceBetween(doc: string, part: { start: string; end: string; body: string }): string {
  const from = doc.indexOf(part.start);
  const to = doc.indexOf(part.end, from);
  if (from < 0 || to < 0) throw new Error(`the markers ${part.start} … ${part.end} are missing`);
  return `${doc.slice(0, from + part.start.length)}\n${part.body}\n${doc.slice(to)}`;
}
