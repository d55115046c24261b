/**
 * A controller per term on the shared CachePolicy informer (found by review).
 */
import type { V1Pod } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { storedPolicy } from "../../test/fixtures.js";
import { FakeClock } from "../clock.js";
import { ResilientInformer, type WatchLike } from "../kube/informer.js";
import type { InformerContext, PolicyObject } from "../kube/informers.js";
import { PolicyIndex } from "../policy/policy-index.js";
import { createMetrics } from "../telemetry/metrics.js";
import { PolicyController } from "./policy-controller.js";
import type { ClusterWriter } from "./reconciler.js";

const flush = () => new Promise((resolve) => setImmediate(resolve));
const empty = async () => ({ metadata: { resourceVersion: "1" }, items: [] });

function harness(pods: () => Promise<{ metadata: { resourceVersion: string }; items: V1Pod[] }>) {
  const clock = new FakeClock();
  const log = pino({ level: "silent" });
  const watch: WatchLike = { watch: async () => new AbortController() };
  const informers = {
    core: { listConfigMapForAllNamespaces: empty, listPodForAllNamespaces: pods },
    rbac: { listRoleForAllNamespaces: empty, listRoleBindingForAllNamespaces: empty },
    custom: {},
    watch,
    clock,
    log,
    onRestart: () => undefined,
  } as unknown as InformerContext;
  const policyList = [storedPolicy({}) as PolicyObject];
  const policies = new ResilientInformer<PolicyObject>({
    resource: "cachepolicies",
    path: "/apis/apicache.io/v1alpha1/cachepolicies",
    list: async () => ({ metadata: { resourceVersion: "1" }, items: policyList }),
    watch,
    clock,
    backoff: { baseMs: 1_000, maxMs: 8_000 },
    log,
  });
  const writer: ClusterWriter = {
    apply: async () => undefined,
    create: async () => "created",
    patchStatus: async () => "rv",
    event: async () => undefined,
  };
  const index = new PolicyIndex((ns) => policies.list(ns));
  const controller = () =>
    new PolicyController({
      policies,
      index,
      informers,
      writer,
      clock,
      log,
      metrics: createMetrics(),
      workers: 2,
      resyncPeriodMs: 600_000,
    });
  return { policies, controller };
}

/** How many callbacks the shared CachePolicy informer holds per event (client-node ListWatch internals). */
function listeners(informer: ResilientInformer<PolicyObject>): number {
  const inner = (informer as unknown as { inner: { callbackCache: Record<string, unknown[]> } }).inner;
  return (inner.callbackCache.add ?? []).length;
}

describe("a controller per term on a shared CachePolicy informer", () => {
  it("a stopped term's controller leaves no callbacks on the shared informer (and is not kept alive by it)", async () => {
    const { policies, controller } = harness(empty);
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
