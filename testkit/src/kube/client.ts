import { randomBytes } from "node:crypto";
import {
  AdmissionregistrationV1Api,
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
} from "@kubernetes/client-node";
import { loadKubeConfig } from "./kubeconfig.js";

/** Typed API clients for one cluster, as tests use them. */
export interface KubeClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apiextensions: ApiextensionsV1Api;
  readonly admission: AdmissionregistrationV1Api;
  readonly custom: CustomObjectsApi;
  readonly objects: KubernetesObjectApi;
}

export function kubeClients(kubeConfig: KubeConfig): KubeClients {
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    apiextensions: kubeConfig.makeApiClient(ApiextensionsV1Api),
    admission: kubeConfig.makeApiClient(AdmissionregistrationV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
  };
}

export function kubeClientsFromFile(kubeconfigPath: string): KubeClients {
  return kubeClients(loadKubeConfig(kubeconfigPath));
}

/** The parts of a failed API call that tests assert on (a metav1.Status when the server sent one). */
export interface ApiFailure {
  readonly code: number;
  readonly reason: string | undefined;
  readonly message: string;
}

/** Turn a client-node error into {code, reason, message}; undefined when it is not an API error. */
export function apiFailure(error: unknown): ApiFailure | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = typeof error.body === "string" ? safeJson(error.body) : error.body;
  const status = (typeof body === "object" && body !== null ? body : {}) as {
    reason?: string;
    message?: string;
  };
  return {
    code: error.code,
    reason: status.reason,
    message: status.message ?? String(error.body ?? error.message),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/**
 * A fresh namespace with a unique name. Namespaces are not deleted afterwards: without a
 * controller-manager a deleted namespace stays Terminating forever, and the cluster is thrown away.
 */
export async function createTestNamespace(clients: KubeClients, prefix = "e2e"): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  await clients.core.createNamespace({ body: { metadata: { name, labels: { "apicache.io/e2e": "true" } } } });
  return name;
}
