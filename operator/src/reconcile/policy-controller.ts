import { createHash } from "node:crypto";
import type { KubernetesObject, V1ConfigMap, V1Pod, V1Role, V1RoleBinding } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Clock, Timer } from "../clock.js";
import type { ResilientInformer } from "../kube/informer.js";
import {
  configMapInformer,
  type InformerContext,
  type PolicyObject,
  podInformer,
  roleBindingInformer,
  roleInformer,
} from "../kube/informers.js";
import { owningPolicyKey } from "../policy/owning-policy.js";
import type { PolicyIndex } from "../policy/policy-index.js";
import { selectorMatches } from "../policy/selector.js";
import { policyKey, type StoredPolicy } from "../policy/types.js";
import { NotInjectedTally } from "../status/not-injected-tally.js";
import type { OperatorMetrics } from "../telemetry/metrics.js";
import { type ClusterWriter, type OwnedKind, Reconciler } from "./reconciler.js";
import { runWorkers, WorkQueue } from "./work-queue.js";

/**
 * The CachePolicy controller (runs on the leader only): informers on what it owns (the managed
 * ConfigMaps, Roles and RoleBindings: an edit or delete by someone else re-queues the owning policy,
 * which re-applies them) and one cluster-wide, slimmed pod informer (a pod event queues the
 * policies that select it) feed a work queue; workers reconcile once every cache has listed. The CachePolicy informer is shared with the webhook and passed in already started.
 */
export interface ControllerOptions {
  readonly policies: ResilientInformer<PolicyObject>;
  readonly index: PolicyIndex;
  readonly informers: InformerContext;
  readonly writer: ClusterWriter;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: OperatorMetrics;
  readonly workers: number;
  readonly resyncPeriodMs: number;
}

export class PolicyController {
  readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly configMaps: ResilientInformer<V1ConfigMap>;
  private readonly roles: ResilientInformer<V1Role>;
  private readonly roleBindings: ResilientInformer<V1RoleBinding>;
  private readonly pods: ResilientInformer<V1Pod>;
  /**
   * Per pod (namespace/name: a pod replaced under the same name during a relist arrives as an update,
   * not a delete): its labels and what its policies' status depends on. Forgotten on delete.
   */
  private readonly podsSeen = new Map<string, SeenPod>();
  private readonly generations = new Map<string, number>();
  private readonly notInjected = new NotInjectedTally();
  private resyncTimer: Timer | undefined;
  private readonly policyCallbacks: ["add" | "update" | "delete", (policy: PolicyObject) => void][] = [
    ["add", (policy) => this.onPolicy(policy)],
    // The echo of its own status write is not queued: half of all reconciles in a burst of new
    // policies, each of which would find nothing to do.
    [
      "update",
      (policy) => {
        if (!this.reconciler.ownStatusEcho(policy)) this.onPolicy(policy);
      },
    ],
    ["delete", (policy) => this.onPolicyDeleted(policy)],
  ];
  private running = false;
  private workersDone: Promise<void> | undefined;

  constructor(private readonly options: ControllerOptions) {
    this.queue = new WorkQueue({
      clock: options.clock,
      backoff: { baseMs: 200, maxMs: 300_000, jitter: 0.1 },
      onDepth: (depth) => options.metrics.queueDepth.set(depth),
    });
    this.reconciler = new Reconciler({
      getPolicy: (namespace, name) => options.policies.get(name, namespace),
      index: options.index,
      pods: (namespace) => this.pods.list(namespace),
      owned: (kind, namespace, name) => this.ownedInformer(kind).get(name, namespace),
      writer: options.writer,
      clock: options.clock,
      log: options.log,
      onNotInjected: (key, pods) => options.metrics.podsNotInjected.set(this.notInjected.set(key, pods)),
    });
    this.configMaps = configMapInformer(options.informers);
    this.roles = roleInformer(options.informers);
    this.roleBindings = roleBindingInformer(options.informers);
    this.pods = podInformer(options.informers);
  }

  /** Every informer this controller started has listed once. */
  get synced(): boolean {
    return this.owned().every(([, informer]) => informer.synced) && this.pods.synced;
  }

  async start(): Promise<void> {
    this.running = true;
    const { policies } = this.options;
    for (const [event, callback] of this.policyCallbacks) policies.on(event, callback);
    for (const [kind, informer] of this.owned()) {
      informer.on("delete", (object) => this.onOwned(kind, object));
      informer.on("update", (object) => this.onOwned(kind, object));
    }
    this.pods.on("add", (pod) => this.onPod(pod, false));
    this.pods.on("update", (pod) => this.onPod(pod, false));
    this.pods.on("delete", (pod) => this.onPod(pod, true));
    // Counting pods from a cache that has not listed yet would report wrong numbers: workers wait.
    const informers = [...this.owned().map(([, informer]) => informer), this.pods];
    await Promise.all(informers.flatMap((informer) => [informer.start(), informer.waitForSync()]));
    this.workersDone = runWorkers(
      this.queue,
      this.options.workers,
      (key) => this.handle(key),
      (key, error, retryInMs) => {
        this.options.log.error({ policy: key, err: error, retryInMs }, "reconcile failed; retrying");
      },
    );
    for (const policy of policies.list()) {
      // Known from here on: its next update is a spec change only if its generation moves.
      this.generations.set(policy.metadata.uid ?? "", policy.metadata.generation ?? 0);
      this.queue.add(policyKey(policy));
    }
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.running = false;
    // The CachePolicy informer outlives this term's controller: nothing of this one stays reachable.
    for (const [event, callback] of this.policyCallbacks) this.options.policies.off(event, callback);
    this.resyncTimer?.cancel();
    this.queue.shutDown();
    await Promise.all([...this.owned().map(([, informer]) => informer.stop()), this.pods.stop()]);
    await this.workersDone;
    this.notInjected.clear();
    this.options.metrics.podsNotInjected.set(0);
  }

  private async handle(key: string): Promise<"done" | { requeueAfterMs: number }> {
    const end = this.options.metrics.reconcileDuration.startTimer();
    try {
      await this.reconciler.reconcile(key);
      this.options.metrics.reconcileTotal.inc({ result: "success" });
      return "done";
    } catch (error) {
      this.options.metrics.reconcileTotal.inc({ result: "error" });
      throw error;
    } finally {
      end();
    }
  }

  private onPolicy(policy: StoredPolicy, deleted = false): void {
    if (!this.running) return;
    const namespace = policy.metadata.namespace ?? "";
    const uid = policy.metadata.uid ?? "";
    const generation = deleted ? -1 : (policy.metadata.generation ?? 0);
    const specChanged = this.generations.get(uid) !== generation;
    if (deleted) this.generations.delete(uid);
    else this.generations.set(uid, generation);
    this.queue.add(policyKey(policy));
    // Another policy's verdict may depend on this one's selector (overlaps): on a spec change,
    // reconcile the namespace; a status-only update concerns this policy alone.
    if (specChanged)
      for (const other of this.options.policies.list(namespace)) this.queue.add(policyKey(other));
  }

  private onPolicyDeleted(policy: StoredPolicy): void {
    if (!this.running) return;
    this.options.index.forget(policy);
    this.reconciler.forget(policy);
    this.onPolicy(policy, true);
  }

  private ownedInformer(kind: OwnedKind): ResilientInformer<KubernetesObject> {
    return kind === "ConfigMap" ? this.configMaps : kind === "Role" ? this.roles : this.roleBindings;
  }

  /** The informers on the objects reconcile applies, with the kind the reconciler records them under. */
  private owned(): [OwnedKind, ResilientInformer<KubernetesObject>][] {
    return [
      ["ConfigMap", this.configMaps],
      ["Role", this.roles],
      ["RoleBinding", this.roleBindings],
    ];
  }

  /**
   * An owned object was changed or deleted (by us or by someone else): forget that it was applied and
   * reconcile its policy, which re-applies it if it drifted (a no-op apply otherwise).
   */
  private onOwned(kind: OwnedKind, object: KubernetesObject): void {
    if (!this.running) return;
    // The kind is passed explicitly: objects from a list carry no kind of their own.
    this.reconciler.invalidate({ kind, metadata: object.metadata ?? {} });
    const key = owningPolicyKey(object.metadata);
    if (key) this.queue.add(key);
  }

  /**
   * A pod changed: reconcile only the policies whose selector matches it now or matched it before
   * (a relabelled pod leaves one policy's count and joins another's), and only when something a
   * status depends on changed.
   */
  private onPod(pod: V1Pod, deleted: boolean): void {
    if (!this.running) return;
    const namespace = pod.metadata?.namespace ?? "";
    const id = `${namespace}/${pod.metadata?.name ?? ""}`;
    const before = this.podsSeen.get(id);
    const now = deleted ? undefined : seenPod(pod);
    if (before && now && before.fingerprint === now.fingerprint) return;
    if (now) this.podsSeen.set(id, now);
    else this.podsSeen.delete(id);
    // An invalid policy reports its last counts (reconcile-time), so its pods' events are not its concern.
    for (const verdict of this.options.index.verdicts(namespace).values()) {
      if (!verdict.valid) continue;
      const { selector } = verdict.policy.spec;
      if (selectorMatches(selector, now?.labels) || selectorMatches(selector, before?.labels)) {
        this.queue.add(policyKey(verdict.stored));
      }
    }
  }

  private scheduleResync(): void {
    this.resyncTimer = this.options.clock.setTimeout(() => {
      if (!this.running) return;
      // Compared with the caches, not re-applied: a resync that finds nothing changed writes nothing.
      // Spread over a tenth of the period, so thousands of policies do not all land at once.
      const spreadMs = this.options.resyncPeriodMs / 10;
      for (const policy of this.options.policies.list()) {
        this.queue.addAfter(policyKey(policy), Math.round(Math.random() * spreadMs));
      }
      this.scheduleResync();
    }, this.options.resyncPeriodMs);
  }
}

interface SeenPod {
  readonly labels: Readonly<Record<string, string>> | undefined;
  readonly fingerprint: string;
}

/**
 * The pod fields a policy's status or RBAC depends on, kept as a digest: their JSON is most of a
 * kilobyte per pod (labels, the status annotation), 7.5 MiB of live heap at 10,000 pods when it was
 * kept whole (`make bench-operator --heap-prof`); the labels are the informer's own object.
 */
function seenPod(pod: V1Pod): SeenPod {
  const fields = JSON.stringify([
    pod.metadata?.uid,
    pod.metadata?.labels,
    pod.metadata?.annotations?.["apicache.io/status"],
    pod.metadata?.deletionTimestamp,
    pod.status?.phase,
    pod.spec?.serviceAccountName,
  ]);
  return { labels: pod.metadata?.labels, fingerprint: createHash("sha1").update(fields).digest("base64") };
}
