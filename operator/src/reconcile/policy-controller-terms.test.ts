/**
 * A controller per term on the shared CachePolicy informer (found by review).
 */
import { describe, expect, it } from "vitest";
import { controllerHarness, flush } from "../../test/controller-harness.js";
import type { ResilientInformer } from "../kube/informer.js";
import type { PolicyObject } from "../kube/informers.js";

/** How many callbacks the shared CachePolicy informer holds per event (client-node ListWatch internals). */
function listeners(informer: ResilientInformer<PolicyObject>): number {
  const inner = (informer as unknown as { inner: { callbackCache: Record<string, unknown[]> } }).inner;
  return (inner.callbackCache.add ?? []).length;
}

describe("a controller per term on a shared CachePolicy informer", () => {
  it("a stopped term's controller leaves no callbacks on the shared informer (and is not kept alive by it)", async () => {
    const { policies, controller } = controllerHarness();
    await policies.start();
    const before = listeners(policies);
    // Three terms, e.g. three start attempts given up (LeaderStartError) in the same process.
    for (let term = 0; term < 3; term++) {
      const c = controller();
      await c.start();
      await c.stop();
    }
    await flush();
    // Each stopped controller (with its pod cache, podsSeen map, reconciler memo) stays reachable
    // from the shared informer's callback list: nothing calls `off` (ResilientInformer has none).
    expect(listeners(policies)).toBe(before);
  });
});
