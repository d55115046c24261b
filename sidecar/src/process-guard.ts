import { ERROR_CODES } from "./errors.js";
import type { Logger } from "./telemetry/logger.js";

/**
 * What the sidecar process does with a promise rejection nothing handled. Node's default is to crash,
 * and a crashed sidecar is a pod that stops answering: too much for one defect, too little for a bug.
 *
 * One kind is known and harmless: ioredis rejects a command it sent on its own, fire-and-forget, when
 * the connection under it closes — the SUBSCRIBE of an automatic resubscription, on the connections
 * the product cannot configure (a Sentinel failover detector's, which keep `autoResubscribe` on). The
 * product's own connections resubscribe themselves and handle every rejection (fill-notifications.ts,
 * invalidation-channel.ts). Such a rejection is logged and the sidecar goes on: the connection it
 * concerned is gone and being replaced. Any other unhandled rejection is a bug whose state nobody
 * knows: logged with its stack, then the process exits non-zero and the kubelet restarts it.
 */
const CONNECTION_LOSS = [
  /^Connection is closed\.$/,
  /^Stream isn't writeable and enableOfflineQueue options is false$/,
];

export function isConnectionLoss(reason: unknown): boolean {
  return reason instanceof Error && CONNECTION_LOSS.some((pattern) => pattern.test(reason.message));
}

export interface GuardEdges {
  readonly log: Logger;
  readonly exit: (code: number) => void;
}

/** The handler for process `unhandledRejection` (installed by main.ts). */
export function onUnhandledRejection(reason: unknown, { log, exit }: GuardEdges): void {
  if (isConnectionLoss(reason)) {
    log.warn(
      { err: reason, code: ERROR_CODES.UNHANDLED_REJECTION },
      "a Redis client command was rejected as its connection closed; the connection is being replaced",
    );
    return;
  }
  log.fatal(
    { err: reason, code: ERROR_CODES.UNHANDLED_REJECTION },
    "unhandled promise rejection: a bug in the sidecar; exiting so that the kubelet restarts it",
  );
  exit(1);
}
