import type { OperatorError } from "./errors.js";

/** What readiness looks at: the replica serves admission only when all of it holds. */
export interface ReadinessParts {
  readonly stopping: () => boolean;
  readonly policiesSynced: () => boolean;
  readonly limitRangesSynced: () => boolean;
  readonly certificateLoaded: () => boolean;
  readonly webhookListening: () => boolean;
  readonly startFailure: () => OperatorError | undefined;
  /** The leader's controller informers (true on followers). */
  readonly controllerSynced: () => boolean;
}

/** Why the replica is not ready, or undefined when it is (the /readyz answer). Pure. */
export function notReadyReason(parts: ReadinessParts): string | undefined {
  if (parts.stopping()) return "shutting down";
  if (!parts.policiesSynced()) return "CachePolicy informer not synced";
  if (!parts.limitRangesSynced()) return "LimitRange informer not synced";
  if (!parts.certificateLoaded()) return "webhook certificate not loaded";
  if (!parts.webhookListening()) return "webhook not listening";
  const failure = parts.startFailure();
  if (failure) return `${failure.code}: ${failure.message}`;
  return parts.controllerSynced() ? undefined : "controller informers not synced";
}
