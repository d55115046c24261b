// Vitest globalSetup of the e2e project (vitest.config.ts): one fresh control plane (etcd +
// kube-apiserver on free loopback ports, state in a temp dir) for the whole tier, stopped in teardown.
// Test files reach it with e2eClients() / e2eKubeconfigPath() from ./e2e-context.ts.
// APICACHE_E2E_KUBECONFIG=<path> runs the tier against an already running cluster instead
// (e.g. `make cluster-up` then APICACHE_E2E_KUBECONFIG=.cache/test-cluster/kubeconfig).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { readKubeTestkitConfig } from "./config.js";
import { startControlPlane } from "./control-plane.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = readKubeTestkitConfig();
  if (config.e2eKubeconfig !== undefined) {
    project.provide("apicacheKubeconfig", resolve(config.e2eKubeconfig));
    return async () => undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "apicache-e2e-"));
  const plane = await startControlPlane({ dir, removeDirOnStop: true });
  project.provide("apicacheKubeconfig", plane.kubeconfigPath);
  return () => plane.stop();
}
