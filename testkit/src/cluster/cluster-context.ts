import { inject } from "vitest";
import { type KubeClients, kubeClientsFromFile } from "../kube/client.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Absolute path of the kubeconfig of the cluster tier's cluster (see global-setup.ts). */
    apicacheClusterKubeconfig: string;
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

export function clusterClients(): KubeClients {
  return kubeClientsFromFile(clusterKubeconfigPath());
}
