import type { StoreError } from "./errors.js";

/** The part of an ioredis Cluster this needs (a standalone client has neither). */
export interface SlotRefresher {
  readonly isCluster?: boolean;
  refreshSlotsCache?(callback?: (error?: Error | null) => void): void;
}

/**
 * A command answered `MOVED`/`ASK` (APICACHE_ERR_STORE_SLOT_MOVED, a failover or a resharding): asks
 * the cluster client to refresh its slots now rather than at its periodic refresh, so the queued
 * invalidation's next retry goes to the new owner (ADR 0018). ioredis coalesces concurrent refreshes;
 * a failed refresh is left to its own retries.
 */
export function refreshSlotsOnMove(client: SlotRefresher, error: StoreError): void {
  if (error.code !== "APICACHE_ERR_STORE_SLOT_MOVED" || client.isCluster !== true) return;
  client.refreshSlotsCache?.(() => {
    // Failures are ioredis's to retry; a later MOVED asks again.
  });
}
