import { CRD_FILE, cachePolicyCrdYaml, cachePolicyReference, REFERENCE_FILE } from "@apicache/crds";
import { generatedMonitoringFiles } from "@apicache/monitoring";

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
  ];
}
