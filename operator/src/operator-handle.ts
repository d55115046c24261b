import type { PolicyController } from "./reconcile/policy-controller.js";
import type { OperatorMetrics } from "./telemetry/metrics.js";

/** A running operator. `done` resolves when it stops by itself (leadership lost: code 1). */
export interface OperatorHandle {
  readonly webhookPort: () => number | undefined;
  readonly metricsPort: number;
  readonly isLeader: () => boolean;
  readonly nativeSidecar: boolean;
  readonly metrics: OperatorMetrics;
  /** The current term's controller (a new one each time this replica starts leading). */
  readonly controller: PolicyController;
  readonly done: Promise<{ code: number; reason: string }>;
  /** Graceful stop: releases the lease (unless `release: false`, to simulate a crash). */
  stop(options?: { release?: boolean }): Promise<void>;
}
