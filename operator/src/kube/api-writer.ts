import type { CachePolicyStatus } from "@apicache/crds";
import {
  ApiException,
  type CoreV1Api,
  type CustomObjectsApi,
  type KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { CACHEPOLICY, FIELD_MANAGER } from "../constants.js";
import type { StoredPolicy } from "../policy/types.js";
import type { PolicyEvent } from "../reconcile/events.js";
import type { AppliedObject, ClusterWriter } from "../reconcile/reconciler.js";
import { aborting } from "./abort.js";

/**
 * The reconciler's writes, through the API server. With a `term` signal (a term of leadership),
 * every request still in flight when it aborts is aborted too (`objects` must then come from
 * abortableObjectsApi with the same signal): its connection closes, so a request held up by a
 * partition is not delivered after the thaw. One that already reached the API server may still take
 * effect — client-side fencing narrows that window, it cannot close it.
 */
export class ApiClusterWriter implements ClusterWriter {
  private readonly options: ReturnType<typeof aborting>;

  constructor(
    private readonly apis: { objects: KubernetesObjectApi; custom: CustomObjectsApi; core: CoreV1Api },
    private readonly identity: string,
    term?: AbortSignal,
  ) {
    this.options = aborting(term);
  }

  async apply(object: AppliedObject): Promise<void> {
    await this.apis.objects.patch(
      object as never,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  async create(object: AppliedObject): Promise<"created" | "exists"> {
    try {
      await this.apis.objects.create(object as never, undefined, undefined, FIELD_MANAGER);
      return "created";
    } catch (error) {
      if (error instanceof ApiException && error.code === 409) return "exists";
      throw error;
    }
  }

  async patchStatus(namespace: string, name: string, status: CachePolicyStatus): Promise<string | undefined> {
    const updated = (await this.apis.custom.patchNamespacedCustomObjectStatus(
      { ...CACHEPOLICY, namespace, name, body: { status }, fieldManager: FIELD_MANAGER },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch, this.options),
    )) as StoredPolicy;
    return updated.metadata?.resourceVersion;
  }

  async event(policy: StoredPolicy, event: PolicyEvent): Promise<void> {
    const { name = "", namespace = "", uid, resourceVersion } = policy.metadata;
    const now = new Date();
    await this.apis.core.createNamespacedEvent(
      {
        namespace,
        body: {
          metadata: { generateName: `${name}.`, namespace },
          involvedObject: {
            apiVersion: `${CACHEPOLICY.group}/${CACHEPOLICY.version}`,
            kind: "CachePolicy",
            name,
            namespace,
            ...(uid ? { uid } : {}),
            ...(resourceVersion ? { resourceVersion } : {}),
          },
          type: event.type,
          reason: event.reason,
          message: event.message.slice(0, 1024),
          source: { component: FIELD_MANAGER },
          reportingComponent: FIELD_MANAGER,
          reportingInstance: this.identity.slice(0, 128),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      },
      this.options,
    );
  }
}
