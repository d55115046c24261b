import { createHash } from "node:crypto";
import type { CachePolicyStatus } from "@apicache/crds";
import type { KubernetesObject, V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { configMapName, TOKEN_ROTATION_ANNOTATION } from "../constants.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import { adminTokenSecretManifest, newAdminToken } from "../policy/admin-token-secret.js";
import type { PolicyIndex } from "../policy/policy-index.js";
import {
  configMapManifest,
  type PolicyRef,
  type RenderedConfig,
  renderConfig,
  roleBindingManifest,
  roleManifest,
} from "../policy/render-config.js";
import { type StoredPolicy, splitKey } from "../policy/types.js";
import { canonicalJson, sameJson } from "../same-json.js";
import { computeStatus } from "../status/compute-status.js";
import { countPods, NO_PODS } from "../status/pod-counts.js";
import { eventsFor, type PolicyEvent } from "./events.js";
import { holdsDesired } from "./holds-desired.js";

/**
 * One CachePolicy reconcile, level-based and idempotent, in a fixed order:
 * validate → render → apply the ConfigMap (and, once pods run its sidecar, the admin token Secret and
 * the Role + RoleBinding that let them read the ConfigMap) → count pods → patch /status → Events.
 * Reads only from caches; writes through `ClusterWriter` (the API in production, a fake in tests).
 */
export interface AppliedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string };
}

export interface ClusterWriter {
  /** Server-side apply (field manager apicache-operator, force). */
  apply(object: AppliedObject): Promise<void>;
  /** Creates the object unless one of that name exists (then leaves it as it is). */
  create(object: AppliedObject): Promise<"created" | "exists">;
  /** Merge-patches /status; returns the stored object's new resourceVersion. */
  patchStatus(namespace: string, name: string, status: CachePolicyStatus): Promise<string | undefined>;
  event(policy: StoredPolicy, event: PolicyEvent): Promise<void>;
}

export interface ReconcilerDeps {
  readonly getPolicy: (namespace: string, name: string) => StoredPolicy | undefined;
  readonly index: PolicyIndex;
  readonly pods: (namespace: string) => readonly V1Pod[];
  /**
   * The operator's own objects as its informers cache them (label managed-by=apicache-operator):
   * an applied object that is there and already as desired is not written again; one that is not
   * there is created, never taken over. Without it every object is applied (tests of other parts).
   */
  readonly owned?: (kind: OwnedKind, namespace: string, name: string) => KubernetesObject | undefined;
  readonly writer: ClusterWriter;
  readonly clock: Clock;
  readonly log: Logger;
  /** A new admin API token (default: 256 random bits); tests pass a fixed one. */
  readonly newToken?: () => string;
  /**
   * Told after each reconcile of a valid policy (namespace/name) how many of its selected pods run
   * without the sidecar, and 0 once it is gone. Feeds apicache_operator_pods_not_injected.
   */
  readonly onNotInjected?: (key: string, pods: number) => void;
}

export type OwnedKind = "ConfigMap" | "Role" | "RoleBinding";

/** An object the policy would own exists and is not the operator's (no label or no owner reference). */
class NameTakenError extends Error {
  constructor(object: AppliedObject) {
    const { kind, metadata } = object;
    super(
      `${kind} ${metadata.namespace}/${metadata.name} exists and is not managed by apicache (no managed-by label or no owner reference to this policy); it was left as it is. Rename or delete it (if this policy was just re-created, the garbage collector removes the old policy's object shortly).`,
    );
  }
}

export class Reconciler {
  /**
   * Hash of what was last written per object, until its cache shows it (or reports a change), so a
   * write the cache has not caught up with is not sent twice; for the admin token Secret, the attempt
   * it was created for (the operator cannot read Secrets: kept while the policy lives).
   */
  private readonly applied = new Map<string, string>();
  /**
   * The status last written per policy uid, while the cache still shows the resourceVersion the write
   * was based on (`read`); dropped once it shows any other (ours, or a later one a relist jumped to).
   */
  private readonly written = new Map<
    string,
    { read?: string; resourceVersion?: string; status: CachePolicyStatus }
  >();
  /** Per policy uid, the digest of the last status write and what it was computed from (echoOf). */
  private readonly echoes = new Map<string, string>();

  constructor(private readonly deps: ReconcilerDeps) {}

  /**
   * The policy as its cache now shows it is what this reconciler last wrote to it: the status it
   * wrote, on the generation and annotations that reconcile read (recorded before the write, so an
   * echo that beats the write's response is known too). Nothing a reconcile reads from the policy has
   * changed, so it need not run again; pods and owned objects have events of their own. A change
   * folded into the same resourceVersion (a relist after a gap) differs in generation or annotations.
   */
  ownStatusEcho(stored: StoredPolicy): boolean {
    const uid = stored.metadata.uid ?? "";
    if (this.written.get(uid)?.resourceVersion === stored.metadata.resourceVersion) this.written.delete(uid);
    return stored.status !== undefined && this.echoes.get(uid) === echoOf(stored, stored.status);
  }

  /** Forget what was applied for this object (it was deleted or edited by someone else). */
  invalidate(object: Pick<V1ConfigMap, "kind" | "metadata">, kind = object.kind ?? "ConfigMap"): void {
    this.applied.delete(appliedKey(kind, object.metadata ?? {}));
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const stored = this.deps.getPolicy(namespace, name);
    if (!stored || stored.metadata.deletionTimestamp !== undefined) {
      this.forget(stored);
      this.deps.onNotInjected?.(key, 0);
      return; // owned objects are garbage-collected through their owner reference
    }
    const verdict = this.deps.index.verdict(namespace, name) ?? {
      valid: false as const,
      reason: "InvalidSpec" as const,
      message: "not found in the policy index",
      stored,
    };
    const previous = this.previousStatus(stored);
    let configHash = previous?.configHash;
    let applyError: string | undefined;
    let applyReason: "ApplyFailed" | "NameTaken" = "ApplyFailed";
    let configWritten = false;
    let pods = NO_PODS;
    let rendered: RenderedConfig | undefined;
    if (verdict.valid) {
      rendered = renderConfig(verdict.policy);
      pods = countPods(this.deps.pods(namespace), verdict.policy, rendered.configHash);
      // Only a valid policy's pods are counted: an invalid one's last count stands.
      this.deps.onNotInjected?.(key, pods.notInjected.length);
      try {
        const ref = policyRef(stored);
        await this.applyOne(ref, configMapManifest(ref, rendered));
        configHash = rendered.configHash; // what the sidecars are told to run, whatever fails next
        configWritten = true;
        await this.applyForSidecars(stored, rendered, pods.serviceAccounts);
      } catch (error) {
        if (error instanceof NameTakenError) {
          applyReason = "NameTaken";
          applyError = error.message;
        } else {
          applyError = `Applying ConfigMap/Role/RoleBinding/admin token Secret failed: ${(error as Error).message}.`;
        }
      }
    } else if (previous) {
      pods = {
        ...NO_PODS,
        selected: previous.selectedPods ?? 0,
        injected: previous.injectedPods ?? 0,
        upToDate: previous.upToDatePods ?? 0,
      };
    }
    const status = computeStatus({
      name,
      generation: stored.metadata.generation ?? 0,
      verdict,
      configHash,
      ...(applyError === undefined ? {} : { applyError, applyReason, configWritten }),
      pods,
      previous,
      now: new Date(this.deps.clock.now()),
    });
    await this.writeStatus(stored, previous, status);
    for (const event of eventsFor(previous, status)) {
      await this.deps.writer.event(stored, event).catch((error: unknown) => {
        this.deps.log.warn({ policy: key, err: error }, "could not record an Event");
      });
    }
    if (applyError !== undefined) {
      const code =
        applyReason === "NameTaken" ? OPERATOR_ERROR_CODES.NAME_TAKEN : OPERATOR_ERROR_CODES.APPLY_FAILED;
      throw new OperatorError(code, applyError);
    }
  }

  /** Drop what is memoized for a policy that is gone (its delete event, or a reconcile that found none). */
  forget(stored: StoredPolicy | undefined): void {
    if (!stored?.metadata.uid) return;
    this.written.delete(stored.metadata.uid);
    this.echoes.delete(stored.metadata.uid);
    this.applied.delete(secretKey(policyRef(stored)));
  }

  /** The status to compare with: the cached one, or the one we wrote if the cache has not caught up. */
  private previousStatus(stored: StoredPolicy): CachePolicyStatus | undefined {
    const uid = stored.metadata.uid ?? "";
    const written = this.written.get(uid);
    if (!written) return stored.status;
    // The cache has not caught up with the write: compare with what was written.
    if (written.read === stored.metadata.resourceVersion) return written.status;
    // It shows the write, or a version past it (a relist after a gap may skip ours): its status is
    // at least as new. Keeping the memo here would hide a later status edit from every reconcile.
    this.written.delete(uid);
    return stored.status;
  }

  private async writeStatus(
    stored: StoredPolicy,
    previous: CachePolicyStatus | undefined,
    status: CachePolicyStatus,
  ) {
    if (previous && sameJson(previous, status)) return;
    const { namespace = "", name = "", uid = "" } = stored.metadata;
    this.echoes.set(uid, echoOf(stored, status));
    try {
      const resourceVersion = await this.deps.writer.patchStatus(namespace, name, status);
      // Only while the cache still shows what this reconcile read. Once it has moved on (the echo came
      // first, or anything else did), a memo keyed to our resourceVersion might never be cleared, and
      // would hide someone else's later status edit from every reconcile.
      if (
        this.deps.getPolicy(namespace, name)?.metadata.resourceVersion === stored.metadata.resourceVersion
      ) {
        const read = stored.metadata.resourceVersion;
        this.written.set(uid, {
          ...(read === undefined ? {} : { read }),
          ...(resourceVersion === undefined ? {} : { resourceVersion }),
          status,
        });
      }
    } catch (error) {
      this.echoes.delete(uid);
      throw new OperatorError(
        OPERATOR_ERROR_CODES.STATUS_FAILED,
        `writing the status of CachePolicy ${namespace}/${name} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * What only a sidecar uses follows the sidecars (ADR 0017, sections 4 and 5): the admin token
   * Secret, and the Role and RoleBinding for the service accounts of pods that run this policy's
   * sidecar. A new policy has no such pod yet (the webhook injects pods created after it), so a burst
   * of new policies costs three writes fewer each. The Secret goes first: a sidecar that mounts its
   * volume before it exists waits for the kubelet's next sync for its token (the admin API answers
   * 503 meanwhile), one refused by a late binding only for its next watch retry.
   */
  private async applyForSidecars(
    stored: StoredPolicy,
    rendered: RenderedConfig,
    serviceAccounts: readonly string[],
  ) {
    const ref = policyRef(stored);
    if (serviceAccounts.length > 0) {
      // Once per configuration and rotation request: a resync sends nothing.
      const rotation = stored.metadata.annotations?.[TOKEN_ROTATION_ANNOTATION] ?? "";
      // Independent: a refused Secret (a quota, a policy engine) must not withhold the binding, nor a
      // taken Role name the token. The RoleBinding still waits for its own Role.
      const secret = await this.ensureAdminTokenSecret(
        ref,
        `${ref.uid}/${rendered.configHash}/${rotation}`,
      ).then(
        () => undefined,
        (error: unknown) => error,
      );
      try {
        await this.applyOne(ref, roleManifest(ref));
        await this.applyOne(ref, roleBindingManifest(ref, serviceAccounts));
      } catch (error) {
        // Both failed: the status keeps the Role's reason (NameTaken, say) and names the Secret's too.
        if (secret !== undefined && error instanceof Error) {
          error.message += ` The admin token Secret was refused too: ${(secret as Error).message}`;
        }
        throw error;
      }
      if (secret !== undefined) throw secret;
    } else if (this.grantsSomeone(ref)) {
      // No sidecar left (scaled to zero, opted out), or a binding from a version that bound the
      // namespace's "default" account before any pod: it grants nobody any more.
      await this.applyOne(ref, roleBindingManifest(ref, []));
    }
  }

  /**
   * The policy's own cached RoleBinding names at least one subject. One that is not this policy's is
   * left alone here: it shows as NameTaken with the first injected pod, like any name conflict.
   */
  private grantsSomeone(ref: PolicyRef): boolean {
    const cached = this.deps.owned?.("RoleBinding", ref.namespace, configMapName(ref.name)) as
      | (KubernetesObject & { subjects?: readonly unknown[] })
      | undefined;
    return cached !== undefined && ownedBy(cached, ref) && (cached.subjects?.length ?? 0) > 0;
  }

  /**
   * Writes one owned object only when needed: nothing when the cache already holds it as desired (a
   * resync that changes nothing writes nothing); a create when the operator has none of that name
   * (a 409 then means someone else's object: NameTaken, never a forced takeover); else a
   * server-side apply (spec change, drift repair).
   */
  private async applyOne(ref: PolicyRef, object: AppliedObject) {
    const { namespace, name } = object.metadata;
    const id = appliedKey(object.kind, object.metadata);
    const cached = this.deps.owned?.(object.kind as OwnedKind, namespace, name);
    if (cached && !ownedBy(cached, ref)) {
      throw new NameTakenError(object);
    }
    if (cached && holdsDesired(cached, object)) {
      // The cache has caught up: nothing to remember (20,000 hashes were 6 MiB of heap at scale).
      this.applied.delete(id);
      return;
    }
    const hash = createHash("sha256").update(JSON.stringify(object)).digest("base64");
    if (this.applied.get(id) === hash) return; // written; the cache has not caught up yet
    if (this.deps.owned && !cached && !this.applied.has(id)) {
      if ((await this.deps.writer.create(object)) === "exists") throw new NameTakenError(object);
    } else {
      await this.deps.writer.apply(object);
    }
    this.applied.set(id, hash);
  }

  /**
   * Creates the admin token Secret; an existing one is left alone (its token may be in use, or
   * rotated by hand). The operator cannot read Secrets outside its namespace, so it tries once per
   * `attempt` (the policy's uid — a re-created policy's old Secret went with the old policy — its
   * rendered configuration and its apicache.io/admin-token-rotation annotation) and once per term, never on a resync: a deleted Secret is created
   * again, with a new token, when the annotation changes — that is how a token is rotated
   * (docs/operator.md) — or the configuration changes, or another replica leads.
   */
  private async ensureAdminTokenSecret(ref: PolicyRef, attempt: string) {
    const id = secretKey(ref);
    if (this.applied.get(id) === attempt) return;
    const secret = adminTokenSecretManifest(ref, (this.deps.newToken ?? newAdminToken)());
    const result = await this.deps.writer.create(secret);
    if (result === "created") {
      this.deps.log.info(
        { namespace: ref.namespace, secret: secret.metadata.name },
        "created the admin token Secret",
      );
    }
    this.applied.set(id, attempt);
  }
}

/** The `applied` memo's key of an object. */
function appliedKey(kind: string, metadata: { namespace?: string; name?: string }): string {
  return `${kind}/${metadata.namespace}/${metadata.name}`;
}

/** The `applied` memo's key of a policy's admin token Secret. */
function secretKey(ref: PolicyRef): string {
  return appliedKey("Secret", adminTokenSecretManifest(ref, "").metadata);
}

/** What a reconcile read from the policy besides its spec (the generation stands for it) and `status`. */
function echoOf(stored: StoredPolicy, status: CachePolicyStatus): string {
  const { generation, annotations, deletionTimestamp } = stored.metadata;
  // Key order aside: the API server sorts a custom resource's keys.
  const read = canonicalJson([generation, annotations, deletionTimestamp, status]);
  return createHash("sha1").update(read).digest("base64");
}

function policyRef(stored: StoredPolicy): PolicyRef {
  const { name = "", namespace = "", uid = "" } = stored.metadata;
  return { name, namespace, uid };
}

/** The object carries an owner reference to this policy (its uid): it is the policy's own. */
function ownedBy(object: KubernetesObject, ref: PolicyRef): boolean {
  return object.metadata?.ownerReferences?.some((owner) => owner.uid === ref.uid) ?? false;
}
