import { CoordinationV1Api } from "@kubernetes/client-node";
import { systemClock } from "../clock.js";
import { LEADER_START_DEADLINE_MS } from "../constants.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import { ApiLeaseClient } from "../kube/lease-client.js";
import type { Runtime } from "../runtime.js";
import { LeaderElector } from "./leader-elector.js";
import { LeaseConflictError } from "./lease.js";

export interface Leadership {
  readonly isLeader: () => boolean;
  readonly lost: () => boolean;
  /** Why the last attempt to lead failed (coded), until leading starts. */
  readonly startFailure: () => OperatorError | undefined;
  readonly start: () => void;
  readonly stop: (release: boolean) => Promise<void>;
}

/** What the leader runs: started on acquiring the lease, stopped (awaited) before it is released. */
export interface Term {
  readonly start: (signal: AbortSignal) => Promise<void>;
  readonly stop: () => Promise<void>;
}

/**
 * The operator's side of leader election: runs `term` while this replica holds the Lease (always,
 * with --leader-elect=false), reports a start failure with a coded error until the next term starts,
 * and calls `onLost` once leadership is lost (the operator then exits; the Deployment restarts it).
 */
export function leadership(runtime: Runtime, term: Term, onLost: (reason: string) => void): Leadership {
  const { config, metrics, log, kubeConfig } = runtime;
  let leading = false;
  let lost = false;
  let startFailure: OperatorError | undefined;
  const begin = async (signal: AbortSignal) => {
    leading = true;
    metrics.leader.set(1);
    log.info({ identity: config.identity }, "leading: starting the controller");
    await term.start(signal);
    // A start that finishes after its term was given up (or lost) proves nothing: keep the failure.
    if (!signal.aborted) startFailure = undefined;
  };
  const end = async () => {
    leading = false;
    metrics.leader.set(0);
    await term.stop();
  };
  const elector = config.leaderElect
    ? new LeaderElector({
        identity: config.identity,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
        clock: systemClock,
        client: new ApiLeaseClient(
          kubeConfig.makeApiClient(CoordinationV1Api),
          config.namespace,
          config.leaseName,
          runtime.owner,
        ),
        onStartedLeading: begin,
        stopLeading: end,
        startDeadlineMs: LEADER_START_DEADLINE_MS,
        onStartFailed: (cause) => {
          startFailure = new OperatorError(
            OPERATOR_ERROR_CODES.LEADER_START_FAILED,
            `${cause.message}; released the controller lease, retrying in ${config.retryPeriodMs} ms`,
            { cause },
          );
          log.error({ err: startFailure, code: startFailure.code }, "could not start leading");
        },
        onStoppedLeading: () => {
          lost = true;
          const error = new OperatorError(
            OPERATOR_ERROR_CODES.LEADERSHIP_LOST,
            "lost the controller lease; exiting so that another replica takes over (the Deployment restarts this one)",
          );
          log.error({ err: error }, "leadership lost");
          onLost(error.message);
        },
        // A lost race is normal; anything else (403, the API server down) is worth seeing.
        onError: (error) =>
          error instanceof LeaseConflictError
            ? log.debug({ err: error }, "lease attempt lost a race")
            : log.warn({ err: error }, "lease attempt failed"),
      })
    : undefined;
  return {
    isLeader: () => leading,
    lost: () => lost,
    startFailure: () => startFailure,
    start: () => {
      if (elector) return elector.start();
      begin(new AbortController().signal).catch((error: unknown) =>
        log.error({ err: error }, "starting the controller failed"),
      );
    },
    // The elector stops the term (controller first) before it releases the lease.
    stop: async (release) => (elector ? elector.stop(release) : end()),
  };
}
