import { ApicacheError, type ApicacheErrorOptions } from "@apicache/crds";

/**
 * The operator's errors: each carries a stable `code` (documented in docs/errors.md under
 * "Operator errors", checked by hack/error-catalog.test.ts) and a message that says what to do.
 */
export const OPERATOR_ERROR_CODES = {
  /** Flags or environment variables are missing or malformed. */
  CONFIG: "APICACHE_ERR_OPERATOR_CONFIG",
  /** No usable kubeconfig: not in a cluster and no --kubeconfig, or the file is unreadable. */
  KUBECONFIG: "APICACHE_ERR_OPERATOR_KUBECONFIG",
  /** The CachePolicy CRD is not installed (listing cachepolicies returned 404). */
  CRD_MISSING: "APICACHE_ERR_OPERATOR_CRD_MISSING",
  /** An informer's list or watch failed; it is restarted with backoff. */
  INFORMER: "APICACHE_ERR_OPERATOR_INFORMER",
  /** Applying a policy's ConfigMap, Role or RoleBinding failed; the policy is retried with backoff. */
  APPLY_FAILED: "APICACHE_ERR_OPERATOR_APPLY_FAILED",
  /**
   * An object the policy would own (`apicache-<policy>` ConfigMap, Role or RoleBinding) already exists
   * and is not the operator's: it is left alone, the policy reports Ready=False (NameTaken) and is retried.
   */
  NAME_TAKEN: "APICACHE_ERR_OPERATOR_NAME_TAKEN",
  /** Writing a CachePolicy's status failed; the policy is retried with backoff. */
  STATUS_FAILED: "APICACHE_ERR_OPERATOR_STATUS_FAILED",
  /** The controller lease could not be renewed in time; the process exits so another replica leads. */
  LEADERSHIP_LOST: "APICACHE_ERR_OPERATOR_LEADERSHIP_LOST",
  /**
   * The new leader could not start its controller (applying the webhook configuration failed, or its
   * informers did not sync in time): it releases the Lease, is not ready, and tries again later.
   */
  LEADER_START_FAILED: "APICACHE_ERR_OPERATOR_LEADER_START_FAILED",
  /** The webhook certificate could not be issued, stored or loaded. */
  WEBHOOK_CERT: "APICACHE_ERR_OPERATOR_WEBHOOK_CERT",
  /** Registering the MutatingWebhookConfiguration (or patching its caBundle) failed. */
  WEBHOOK_REGISTRATION: "APICACHE_ERR_OPERATOR_WEBHOOK_REGISTRATION",
  /**
   * The installation's MutatingWebhookConfiguration was deleted (helm uninstall, or injection switched
   * off by hand): the operator does not re-create its Lease, Secret or the configuration until it is back.
   */
  INSTALLATION_GONE: "APICACHE_ERR_OPERATOR_INSTALLATION_GONE",
  /** An AdmissionReview could not be handled; the pod is admitted without the sidecar. */
  WEBHOOK_REQUEST: "APICACHE_ERR_OPERATOR_WEBHOOK_REQUEST",
  /** A listener (webhook, metrics) could not bind its address. */
  LISTEN: "APICACHE_ERR_OPERATOR_LISTEN",
} as const;

export type OperatorErrorCode = (typeof OPERATOR_ERROR_CODES)[keyof typeof OPERATOR_ERROR_CODES];

/** The operator's errors, in the one shape of crds/src/errors.ts (ADR 0032). */
export class OperatorError extends ApicacheError<OperatorErrorCode> {
  constructor(code: OperatorErrorCode, message: string, options?: ApicacheErrorOptions) {
    super(code, message, options);
    this.name = "OperatorError";
  }
}
