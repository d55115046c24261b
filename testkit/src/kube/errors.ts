/** Stable codes for everything the Kubernetes test kit can fail on; each message says what to do. */
export type KubeTestkitErrorCode =
  | "APICACHE_ERR_TOOL_MISSING"
  | "APICACHE_ERR_TOOL_VERSIONS"
  | "APICACHE_ERR_CONFIG"
  | "APICACHE_ERR_PROCESS_EXITED"
  | "APICACHE_ERR_TIMEOUT"
  | "APICACHE_ERR_CLUSTER_STATE";

export class KubeTestkitError extends Error {
  override readonly name = "KubeTestkitError";

  constructor(
    readonly code: KubeTestkitErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
