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
 * the dispatcher options (server, CA, client certificate, key) are compared with those of the Agents
 * built so far, so a kubeconfig whose credentials change gets a new Agent. Authentication headers
 * (bearer tokens) are still applied per request by client-node, so rotating service-account tokens
 * keep working. The comparison is by value, field by field: a digest of their JSON (Buffers as arrays
 * of numbers) cost about 130 µs per request, 5% of the operator's CPU in `make bench-operator`.
 */
export function reuseConnections(kubeConfig: KubeConfig): void {
  const target = kubeConfig as unknown as { createDispatcher: CreateDispatcher };
  const build = target.createDispatcher.bind(kubeConfig);
  const agents: { options: unknown; agent: unknown }[] = [];
  target.createDispatcher = (cluster, agentOptions) => {
    const options = kubeConfig.createDispatcherOptions(cluster as never, agentOptions as never);
    const known = agents.find((entry) => sameValue(entry.options, options));
    if (known) return known.agent;
    const agent = build(cluster, agentOptions);
    agents.push({ options, agent });
    return agent;
  };
}

/** Deep equality of plain data: strings, numbers, booleans, Buffers, arrays and plain objects. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b))
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const left = Object.entries(a).filter(([, v]) => v !== undefined);
  const right = b as Record<string, unknown>;
  if (left.length !== Object.values(right).filter((v) => v !== undefined).length) return false;
  return left.every(([key, value]) => sameValue(value, right[key]));
}
