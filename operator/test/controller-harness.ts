import type { CachePolicyStatus } from "@apicache/crds";
import type { V1Pod } from "@kubernetes/client-node";
import { pino } from "pino";
import { FakeClock } from "../src/clock.js";
import { ResilientInformer, type WatchLike } from "../src/kube/informer.js";
import type { InformerContext, PolicyObject } from "../src/kube/informers.js";
import { PolicyIndex } from "../src/policy/policy-index.js";
import { PolicyController } from "../src/reconcile/policy-controller.js";
import type { ClusterWriter } from "../src/reconcile/reconciler.js";
import { createMetrics } from "../src/telemetry/metrics.js";
import { storedPolicy } from "./fixtures.js";

type PodList = { metadata: { resourceVersion: string }; items: V1Pod[] };
type WatchCallback = (phase: string, object: unknown) => void;

export const flush = () => new Promise((resolve) => setImmediate(resolve));
const empty = async () => ({ metadata: { resourceVersion: "1" }, items: [] });

export const POLICIES_PATH = "/apis/apicache.io/v1alpha1/cachepolicies";

/**
 * A PolicyController on fakes: informers that list from memory and whose watches the test drives
 * (`emit` on a path), a writer that records the statuses written and returns resourceVersions
 * "rv-1", "rv-2", …, and one metrics registry for every controller it builds.
 */
export function controllerHarness(
  options: {
    pods?: () => Promise<PodList>;
    policies?: PolicyObject[];
    /** Called inside each status write, before it returns (a watch event may beat the response). */
    onStatusWrite?: (status: CachePolicyStatus, resourceVersion: string) => void;
  } = {},
) {
  const pods = options.pods ?? empty;
  const clock = new FakeClock();
  const log = pino({ level: "silent" });
  const watches = new Map<string, WatchCallback>();
  const watch: WatchLike = {
    watch: async (path, _params, callback) => {
      watches.set(path, callback as WatchCallback);
      return new AbortController();
    },
  };
  const informers = {
    core: { listConfigMapForAllNamespaces: empty, listPodForAllNamespaces: pods },
    rbac: { listRoleForAllNamespaces: empty, listRoleBindingForAllNamespaces: empty },
    custom: {},
    watch,
    clock,
    log,
    onRestart: () => undefined,
  } as unknown as InformerContext;
  const policyList = options.policies ?? [storedPolicy({}) as PolicyObject];
  const policies = new ResilientInformer<PolicyObject>({
    resource: "cachepolicies",
    path: POLICIES_PATH,
    list: async () => ({ metadata: { resourceVersion: "1" }, items: policyList }),
    watch,
    clock,
    backoff: { baseMs: 1_000, maxMs: 8_000 },
    log,
  });
  const statuses: CachePolicyStatus[] = [];
  const writer: ClusterWriter = {
    apply: async () => undefined,
    create: async () => "created",
    patchStatus: async (_namespace, _name, status) => {
      statuses.push(status);
      const resourceVersion = `rv-${statuses.length}`;
      options.onStatusWrite?.(status, resourceVersion);
      return resourceVersion;
    },
    event: async () => undefined,
  };
  const index = new PolicyIndex((ns) => policies.list(ns));
  const metrics = createMetrics();
  const controller = () =>
    new PolicyController({
      policies,
      index,
      informers,
      writer,
      clock,
      log,
      metrics,
      workers: 2,
      resyncPeriodMs: 600_000,
    });
  const emit = (path: string, phase: string, object: unknown) => {
    const callback = watches.get(path);
    if (!callback) throw new Error(`nothing watches ${path}`);
    callback(phase, object);
  };
  /** Reconciles run so far, by every controller this harness built. */
  const reconciles = async () =>
    (await metrics.reconcileTotal.get()).values.reduce((sum, value) => sum + value.value, 0);
  return { policies, policyList, controller, emit, reconciles, statuses };
}
