import { describe, expect, it } from "vitest";
import { storeSlotMoved, storeTimeout, storeUnavailable } from "./errors.js";
import { refreshSlotsOnMove } from "./slot-refresh.js";

function fakeCluster() {
  const cluster = {
    isCluster: true,
    refreshes: 0,
    refreshSlotsCache(callback?: (error?: Error | null) => void) {
      cluster.refreshes++;
      callback?.(new Error("refresh failed")); // a failed refresh is ioredis's to retry: never thrown
    },
  };
  return cluster;
}

describe("refreshing a cluster's slots when a command was answered MOVED/ASK", () => {
  it("asks the cluster client to refresh its slots on SLOT_MOVED, without waiting for its periodic refresh", () => {
    const cluster = fakeCluster();
    refreshSlotsOnMove(cluster, storeSlotMoved("redis-cluster", "delete_tags", new Error("MOVED 1 h:1")));
    expect(cluster.refreshes).toBe(1);
  });

  it("leaves it alone for other failures, and a standalone client alone", () => {
    const cluster = fakeCluster();
    refreshSlotsOnMove(cluster, storeTimeout("redis-cluster", "delete_tags", 50));
    refreshSlotsOnMove(cluster, storeUnavailable("redis-cluster", "get", new Error("Connection is closed.")));
    expect(cluster.refreshes).toBe(0);
    const standalone = {
      refreshes: 0,
      refreshSlotsCache() {
        standalone.refreshes++;
      },
    };
    refreshSlotsOnMove(standalone, storeSlotMoved("redis", "delete", new Error("MOVED 1 h:1")));
    expect(standalone.refreshes).toBe(0);
  });
});
