import { ApicacheError, type ApicacheErrorOptions } from "@apicache/crds";

/**
 * The sidecar's errors: each carries a stable `code` (documented in docs/errors.md, checked by
 * hack/error-catalog.test.ts) and a message that says what to do. Store errors live in store/errors.ts.
 */
export const ERROR_CODES = {
  /** Flags or environment variables are missing or malformed. */
  CONFIG: "APICACHE_ERR_CONFIG",
  /** The policy file or ConfigMap could not be read. */
  POLICY_READ: "APICACHE_ERR_POLICY_READ",
  /** The configuration is of a version this sidecar does not read (a newer SidecarConfig schemaVersion). */
  UNSUPPORTED_CONFIG_VERSION: "APICACHE_ERR_UNSUPPORTED_CONFIG_VERSION",
  /** A listener could not bind its address. */
  LISTEN: "APICACHE_ERR_LISTEN",
  /** The upstream did not answer within spec.upstream.timeout. */
  UPSTREAM_TIMEOUT: "APICACHE_ERR_UPSTREAM_TIMEOUT",
  /** The upstream refused the connection (not listening). */
  UPSTREAM_REFUSED: "APICACHE_ERR_UPSTREAM_REFUSED",
  /** The upstream reset or closed the connection mid-response. */
  UPSTREAM_RESET: "APICACHE_ERR_UPSTREAM_RESET",
  /** The upstream's body ended before its declared length. */
  UPSTREAM_TRUNCATED: "APICACHE_ERR_UPSTREAM_TRUNCATED",
  /** Every connection of the request's upstream lane stayed busy past --upstream-queue-timeout (503). */
  UPSTREAM_BUSY: "APICACHE_ERR_UPSTREAM_BUSY",
  /** A client did not read its response for --client-write-timeout: the connection was cut. */
  CLIENT_WRITE_TIMEOUT: "APICACHE_ERR_CLIENT_WRITE_TIMEOUT",
  /** An admin request lacked the bearer token or carried a wrong one. */
  ADMIN_UNAUTHORIZED: "APICACHE_ERR_ADMIN_UNAUTHORIZED",
  /** The --admin-token-file is empty, unreadable or missing: the sidecar refuses to start. */
  ADMIN_TOKEN: "APICACHE_ERR_ADMIN_TOKEN",
  /** The admin API would serve /invalidate, /warm and /stats without a token on a non-loopback address. */
  ADMIN_INSECURE: "APICACHE_ERR_ADMIN_INSECURE",
  /** The token file (--admin-token-wait) has not appeared yet: guarded admin endpoints answer 503. */
  ADMIN_TOKEN_PENDING: "APICACHE_ERR_ADMIN_TOKEN_PENDING",
  /** A POST /warm listed more paths than one call may warm. */
  WARM_TOO_MANY_PATHS: "APICACHE_ERR_WARM_TOO_MANY_PATHS",
  /** An admin request body was not the expected JSON. */
  ADMIN_BAD_REQUEST: "APICACHE_ERR_ADMIN_BAD_REQUEST",
  /** The Kubernetes watch on the policy ConfigMap failed; it is restarted with backoff. */
  CONFIGMAP_WATCH: "APICACHE_ERR_CONFIGMAP_WATCH",
  /** A client sent a request the sidecar could not parse (bad request line, headers too large, too slow). */
  BAD_CLIENT_REQUEST: "APICACHE_ERR_BAD_CLIENT_REQUEST",
  /** The warmer could not refresh a spec.warm path. */
  WARM_FAILED: "APICACHE_ERR_WARM_FAILED",
  /** A promise rejection nothing handled: a Redis connection's own command (survived) or a bug (exit 1). */
  UNHANDLED_REJECTION: "APICACHE_ERR_UNHANDLED_REJECTION",
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** The sidecar's errors, in the one shape of crds/src/errors.ts (ADR 0032). */
export class SidecarError extends ApicacheError<ErrorCode> {
  constructor(code: ErrorCode, message: string, options?: ApicacheErrorOptions) {
    super(code, message, options);
    this.name = "SidecarError";
  }
}
