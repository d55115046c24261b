import { createHash } from "node:crypto";
import { KubeConfig } from "@kubernetes/client-node";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";

/** A KubeConfig from --kubeconfig, or the in-cluster service account. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (path) kubeConfig.loadFromFile(path);
    else kubeConfig.loadFromCluster();
  } catch (error) {
    throw new OperatorError(
      OPERATOR_ERROR_CODES.KUBECONFIG,
      `cannot load ${path ? `kubeconfig ${path}` : "the in-cluster configuration"}: ${(error as Error).message}. Outside a cluster pass --kubeconfig.`,
      { cause: error },
    );
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new OperatorError(
      OPERATOR_ERROR_CODES.KUBECONFIG,
      "the kubeconfig has no current cluster: pass --kubeconfig or run in a cluster",
    );
  }
  reuseConnections(kubeConfig);
  return kubeConfig;
}

type CreateDispatcher = (cluster: unknown, agentOptions: unknown) => unknown;

/**
 * client-node 2.0.1 builds a new undici Agent for every request (KubeConfig.createDispatcher, called
 * from applySecurityAuthentication): a new TCP connection, TLS handshake and SecureContext per API
 * call, no keep-alive. At 5,000 policies that was most of the operator's CPU and of its memory
 * churn (load-tests/results.md). Here one Agent per distinct TLS configuration is kept and reused:
 * keyed by a hash of the dispatcher options (server, CA, client certificate, key), so a kubeconfig
 * whose credentials change gets a new Agent. Authentication headers (bearer tokens) are still
 * applied per request by client-node, so rotating service-account tokens keep working.
 */
export function reuseConnections(kubeConfig: KubeConfig): void {
  const target = kubeConfig as unknown as { createDispatcher: CreateDispatcher };
  const build = target.createDispatcher.bind(kubeConfig);
  const agents = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const options = kubeConfig.createDispatcherOptions(cluster as never, agentOptions as never);
    const key = createHash("sha256").update(JSON.stringify(options)).digest("hex");
    if (!agents.has(key)) agents.set(key, build(cluster, agentOptions));
    return agents.get(key);
  };
}
