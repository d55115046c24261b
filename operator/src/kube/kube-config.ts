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
  return kubeConfig;
}
