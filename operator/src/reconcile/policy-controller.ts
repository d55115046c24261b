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
import { policyKey, type StoredPolicy } from "../policy/types.js";
import type { OperatorMetrics } from "../telemetry/metrics.js";
import { type ClusterWriter, type OwnedKind, Reconciler } from "./reconciler.js";
import { runWorkers, WorkQueue } from "./work-queue.js";

/**
 * The CachePolicy controller (runs on the leader only): informers on what it owns (the managed
 * ConfigMaps, Roles and RoleBindings: an edit or delete by someone else re-queues the owning policy,
 * which re-applies them) and on the pods of every namespace that has policies feed a work queue;
 * workers reconcile. The CachePolicy informer is shared with the webhook and passed in already started.
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
  private readonly pods = new Map<string, ResilientInformer<V1Pod>>();
  private readonly podFingerprints = new Map<string, string>();
  private readonly generations = new Map<string, number>();
  private resyncTimer: Timer | undefined;
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
      pods: (namespace) => this.pods.get(namespace)?.list(namespace) ?? [],
      owned: (kind, namespace, name) => this.ownedInformer(kind).get(name, namespace),
      writer: options.writer,
      clock: options.clock,
      log: options.log,
    });
    this.configMaps = configMapInformer(options.informers);
    this.roles = roleInformer(options.informers);
    this.roleBindings = roleBindingInformer(options.informers);
  }

  /** Every informer this controller started has listed once. */
  get synced(): boolean {
    return (
      this.owned().every(([, informer]) => informer.synced) &&
      [...this.pods.values()].every((informer) => informer.synced)
    );
  }

  async start(): Promise<void> {
    this.running = true;
    const { policies } = this.options;
    policies.on("add", (policy) => this.onPolicy(policy));
    policies.on("update", (policy) => this.onPolicy(policy));
    policies.on("delete", (policy) => this.onPolicyDeleted(policy));
    for (const [kind, informer] of this.owned()) {
      informer.on("delete", (object) => this.onOwned(kind, object));
      informer.on("update", (object) => this.onOwned(kind, object));
    }
    await Promise.all(this.owned().flatMap(([, informer]) => [informer.start(), informer.waitForSync()]));
    const namespaces = new Set(policies.list().map((p) => p.metadata.namespace ?? ""));
    await Promise.all([...namespaces].map((namespace) => this.ensurePods(namespace)));
    this.workersDone = runWorkers(
      this.queue,
      this.options.workers,
      (key) => this.handle(key),
      (key, error, retryInMs) => {
        this.options.log.error({ policy: key, err: error, retryInMs }, "reconcile failed; retrying");
      },
    );
    for (const policy of policies.list()) this.queue.add(policyKey(policy));
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.resyncTimer?.cancel();
    this.queue.shutDown();
    await Promise.all([
      ...this.owned().map(([, informer]) => informer.stop()),
      ...[...this.pods.values()].map((informer) => informer.stop()),
    ]);
    await this.workersDone;
  }

  private async handle(key: string): Promise<"done" | { requeueAfterMs: number }> {
    const namespace = key.slice(0, key.indexOf("/"));
    const pods = this.pods.get(namespace);
    if (!pods?.synced) {
      // Counting pods from a cache that has not listed yet would report wrong numbers.
      void this.ensurePods(namespace);
      this.options.metrics.reconcileTotal.inc({ result: "requeue" });
      return { requeueAfterMs: 100 };
    }
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
    if (!this.pods.has(namespace)) void this.ensurePods(namespace);
  }

  private onPolicyDeleted(policy: StoredPolicy): void {
    if (!this.running) return;
    this.options.index.forget(policy);
    this.onPolicy(policy, true);
    const namespace = policy.metadata.namespace ?? "";
    if (this.options.policies.list(namespace).length === 0) {
      void this.pods.get(namespace)?.stop();
      this.pods.delete(namespace);
    }
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

  private onPod(pod: V1Pod, deleted: boolean): void {
    if (!this.running) return;
    const uid = pod.metadata?.uid ?? "";
    const fingerprint = deleted ? "deleted" : podFingerprint(pod);
    if (this.podFingerprints.get(uid) === fingerprint) return;
    if (deleted) this.podFingerprints.delete(uid);
    else this.podFingerprints.set(uid, fingerprint);
    for (const policy of this.options.policies.list(pod.metadata?.namespace))
      this.queue.add(policyKey(policy));
  }

  private async ensurePods(namespace: string): Promise<void> {
    if (this.pods.has(namespace) || !this.running) return;
    const informer = podInformer(this.options.informers, namespace);
    this.pods.set(namespace, informer);
    informer.on("add", (pod) => this.onPod(pod, false));
    informer.on("update", (pod) => this.onPod(pod, false));
    informer.on("delete", (pod) => this.onPod(pod, true));
    await informer.start();
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

/** The pod fields a policy's status or RBAC depends on. */
function podFingerprint(pod: V1Pod): string {
  return JSON.stringify([
    pod.metadata?.labels,
    pod.metadata?.annotations?.["apicache.io/status"],
    pod.metadata?.deletionTimestamp,
    pod.status?.phase,
    pod.spec?.serviceAccountName,
  ]);
}
