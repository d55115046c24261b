import type {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesListObject,
  KubernetesObject,
  RbacAuthorizationV1Api,
  V1ConfigMap,
  V1LimitRange,
  V1Pod,
  V1Role,
  V1RoleBinding,
  Watch,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { BackoffOptions } from "../backoff.js";
import type { Clock } from "../clock.js";
import { CACHEPOLICY, FIELD_MANAGER, MANAGED_BY_LABEL } from "../constants.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import type { StoredPolicy } from "../policy/types.js";
import { ResilientInformer } from "./informer.js";
import { slimPod } from "./slim-pod.js";
import { policyAsCached, trimOwned, withoutBookkeeping } from "./trim.js";
import type { ValuePool } from "./value-pool.js";

/** Factories of the operator's informers (the paths and list calls in one place). */
export interface InformerContext {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly rbac: RbacAuthorizationV1Api;
  readonly watch: Watch;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onRestart: (resource: string) => void;
  /** Shares equal strings among the cached objects (value-pool.ts); none: each keeps its own. */
  readonly pool?: ValuePool;
}

/** A CachePolicy as the informer caches it. */
export type PolicyObject = KubernetesObject & StoredPolicy;

/**
 * Every informer lists in pages of this many objects, each page trimmed before the next is read:
 * thousands of policies and their objects are never all held as full JSON at once.
 */
const PAGE = 500;

export const INFORMER_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, jitter: 0.5 };

/** `object` with its strings shared through the context's pool, if it has one. */
function share<T>(context: InformerContext, object: T): T {
  return context.pool ? context.pool.share(object) : object;
}

/** `transform`, then the context's pool shares the result's strings. */
function pooled<T>(
  context: InformerContext,
  transform: (object: T, cached: T | undefined) => T,
): (object: T, cached: T | undefined) => T {
  return (object, cached) => share(context, transform(object, cached));
}

function common(context: InformerContext) {
  return {
    watch: context.watch,
    clock: context.clock,
    log: context.log,
    backoff: INFORMER_BACKOFF,
    onRestart: context.onRestart,
    transform: withoutBookkeeping,
  };
}

export function policyInformer(context: InformerContext): ResilientInformer<PolicyObject> {
  return new ResilientInformer<PolicyObject>({
    ...common(context),
    // Pooled before the cached spec is put back: that one is the cache's, already pooled.
    transform: (object, cached) => policyAsCached(share(context, withoutBookkeeping(object)), cached),
    resource: "cachepolicies",
    path: `/apis/${CACHEPOLICY.group}/${CACHEPOLICY.version}/${CACHEPOLICY.plural}`,
    list: async () => {
      try {
        return await listInPages(
          (page) =>
            context.custom.listClusterCustomObject({ ...CACHEPOLICY, limit: PAGE, ...page }) as Promise<
              KubernetesListObject<PolicyObject>
            >,
          withoutBookkeeping,
        );
      } catch (error) {
        if ((error as { code?: number }).code === 404) {
          throw new OperatorError(
            OPERATOR_ERROR_CODES.CRD_MISSING,
            "the CachePolicy CRD (cachepolicies.apicache.io) is not installed: apply crds/apicache.io_cachepolicies.yaml (the Helm chart installs it)",
            { cause: error },
          );
        }
        throw error;
      }
    },
  });
}

/** Selects the objects the operator manages (every one carries this label; see render-config.ts). */
const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${FIELD_MANAGER}`;

export function configMapInformer(context: InformerContext): ResilientInformer<V1ConfigMap> {
  const labelSelector = MANAGED_SELECTOR;
  return new ResilientInformer<V1ConfigMap>({
    ...common(context),
    transform: pooled(context, trimOwned<V1ConfigMap>),
    resource: "configmaps",
    path: "/api/v1/configmaps",
    labelSelector,
    list: () =>
      listInPages(
        (page) => context.core.listConfigMapForAllNamespaces({ labelSelector, limit: PAGE, ...page }),
        trimOwned,
      ),
  });
}

/** The per-policy Roles (read access to the policy's ConfigMap), so drift is repaired at once. */
export function roleInformer(context: InformerContext): ResilientInformer<V1Role> {
  const labelSelector = MANAGED_SELECTOR;
  return new ResilientInformer<V1Role>({
    ...common(context),
    transform: pooled(context, trimOwned<V1Role>),
    resource: "roles",
    path: "/apis/rbac.authorization.k8s.io/v1/roles",
    labelSelector,
    list: () =>
      listInPages(
        (page) => context.rbac.listRoleForAllNamespaces({ labelSelector, limit: PAGE, ...page }),
        trimOwned,
      ),
  });
}

/** The per-policy RoleBindings (to the service accounts of the pods that run the policy's sidecar). */
export function roleBindingInformer(context: InformerContext): ResilientInformer<V1RoleBinding> {
  const labelSelector = MANAGED_SELECTOR;
  return new ResilientInformer<V1RoleBinding>({
    ...common(context),
    transform: pooled(context, trimOwned<V1RoleBinding>),
    resource: "rolebindings",
    path: "/apis/rbac.authorization.k8s.io/v1/rolebindings",
    labelSelector,
    list: () =>
      listInPages(
        (page) => context.rbac.listRoleBindingForAllNamespaces({ labelSelector, limit: PAGE, ...page }),
        trimOwned,
      ),
  });
}

/**
 * Every namespace's pods in one informer, each slimmed to what the operator reads (slim-pod.ts),
 * listed in pages so a large cluster's pods are never all held in full at once.
 */
export function podInformer(context: InformerContext): ResilientInformer<V1Pod> {
  return new ResilientInformer<V1Pod>({
    ...common(context),
    resource: "pods",
    path: "/api/v1/pods",
    transform: pooled(context, slimPod),
    list: () =>
      listInPages((page) => context.core.listPodForAllNamespaces({ limit: PAGE, ...page }), slimPod),
  });
}

/** Follows `continue` tokens to the end; each page is transformed before the next is read. */
export async function listInPages<T extends KubernetesObject>(
  fetch: (page: { _continue?: string }) => Promise<KubernetesListObject<T>>,
  transform: (item: T) => T,
): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let first: KubernetesListObject<T> | undefined;
  let token: string | undefined;
  do {
    const page = await fetch(token ? { _continue: token } : {});
    first ??= page;
    for (const item of page.items) items.push(transform(item));
    // Typed lists (client-node's models) name it `_continue`; custom objects come as plain JSON: `continue`.
    const metadata = page.metadata as { _continue?: string; continue?: string } | undefined;
    token = metadata?._continue || metadata?.continue || undefined;
  } while (token);
  // The first page's resourceVersion is the snapshot every page was read at: the watch starts there.
  return { ...(first as KubernetesListObject<T>), items };
}

/** Every namespace's LimitRanges, read by the webhook to fit the sidecar's resources (every replica). */
export function limitRangeInformer(context: InformerContext): ResilientInformer<V1LimitRange> {
  return new ResilientInformer<V1LimitRange>({
    ...common(context),
    resource: "limitranges",
    path: "/api/v1/limitranges",
    list: () => context.core.listLimitRangeForAllNamespaces(),
  });
}
