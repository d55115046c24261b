import { inject } from "vitest";
import { type KubeClients, kubeClientsFromFile } from "./client.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Absolute path of the kubeconfig of the e2e tier's control plane (see global-setup.ts). */
    apicacheKubeconfig: string;
  }
}

/** In an e2e test file: the kubeconfig path of the control plane the global setup started. */
export function e2eKubeconfigPath(): string {
  const path = inject("apicacheKubeconfig");
  if (typeof path !== "string" || path === "") {
    throw new Error(
      "no e2e control plane: run e2e tests with `npx vitest run --project e2e` (its globalSetup starts one)",
    );
  }
  return path;
}

/** In an e2e test file: typed clients for the control plane the global setup started. */
export function e2eClients(): KubeClients {
  return kubeClientsFromFile(e2eKubeconfigPath());
}
