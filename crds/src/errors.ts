/**
 * The one error shape of apicache's programs (ADR 0032): a stable `code` (`APICACHE_ERR_*`), a message
 * that says what to do, and, when there is more to say than the message, structured `details`. The
 * sidecar, the operator and this package each keep their own code table (`ERROR_CODES`,
 * `STORE_ERROR_CODES`, `OPERATOR_ERROR_CODES`, `CRDS_ERROR_CODES`); every code is documented in
 * docs/errors.md, checked by hack/error-catalog.test.ts. Pure.
 */
export interface ApicacheErrorShape<C extends string = string> {
  readonly code: C;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The codes this package raises (the programs that read a policy log and answer them). */
export const CRDS_ERROR_CODES = {
  /** A CachePolicy (or a SidecarConfig rendered from one) failed validation; every problem is listed. */
  INVALID_POLICY: "APICACHE_ERR_INVALID_POLICY",
} as const;

export interface ApicacheErrorOptions {
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/**
 * Every error the programs throw with a code is one of these (or a subclass that adds typed fields
 * for its callers). `details` is an own property only when given, so logs and JSON show it only then.
 */
export class ApicacheError<C extends string = string> extends Error implements ApicacheErrorShape<C> {
  declare readonly details?: Readonly<Record<string, unknown>>;

  constructor(
    readonly code: C,
    message: string,
    options: ApicacheErrorOptions = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "ApicacheError";
    if (options.details !== undefined) this.details = options.details;
  }

  /** The shape, as `JSON.stringify` and anything else that serializes the error sees it. */
  toJSON(): ApicacheErrorShape<C> {
    return errorShape(this);
  }
}

/** Code, message and details (when there are any): nothing else of the error (no stack, no cause). */
export function errorShape<C extends string>(error: ApicacheErrorShape<C>): ApicacheErrorShape<C> {
  const { code, message, details } = error;
  return details === undefined ? { code, message } : { code, message, details };
}

/** An error as an HTTP JSON answer's body: `{"error": code, "message": ..., "details"?: ...}`. */
export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * How every HTTP API of apicache answers an error in JSON (today the sidecar's admin API). The code is
 * under `error`, the key those answers have always used and clients read (docs/sidecar.md).
 */
export function errorBody(error: ApicacheErrorShape): ErrorBody {
  const { code, message, details } = errorShape(error);
  return details === undefined ? { error: code, message } : { error: code, message, details };
}
