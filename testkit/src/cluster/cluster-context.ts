import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Absolute path of the kubeconfig of the cluster tier's cluster (see global-setup.ts). */
    apicacheClusterKubeconfig: string;
    /** `ip netns` name of the cluster's node ("" for a cluster the tier did not start). */
    apicacheClusterNetns: string;
  }
}

/** In a cluster-tier test file: the kubeconfig of the real single-node cluster the global setup started. */
export function clusterKubeconfigPath(): string {
  const path = inject("apicacheClusterKubeconfig");
  if (typeof path !== "string" || path === "") {
    throw new Error(
      "no test cluster: run cluster tests with `npx vitest run --project cluster` (its globalSetup starts one)",
    );
  }
  return path;
}

/** The node's network namespace, for tests that make faults on the node's network. */
export function clusterNodeNetns(): string {
  const netns = inject("apicacheClusterNetns");
  if (typeof netns !== "string" || netns === "") {
    throw new Error(
      "this test makes network faults on the node: it needs the cluster the tier starts, not APICACHE_CLUSTER_KUBECONFIG",
    );
  }
  return netns;
}
