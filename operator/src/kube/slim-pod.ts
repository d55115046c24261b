import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { STATUS_ANNOTATION } from "../constants.js";

/**
 * The part of a Pod the operator reads (status counts, RBAC subjects, the webhook's verdicts are
 * elsewhere): what the pod informer keeps instead of the whole object, so 10,000 pods cost a few
 * MiB, not hundreds. Keeps identity (name, namespace, uid, resourceVersion, labels, the injection
 * status annotation, deletionTimestamp), each container's name and ports (none for a pod the
 * annotation marks injected), the service account and the phase. Pure.
 */
export function slimPod(pod: V1Pod): V1Pod {
  const metadata = pod.metadata ?? {};
  const status = metadata.annotations?.[STATUS_ANNOTATION];
  // An injected pod's status annotation says all its counts read; its containers are never looked at.
  const containers = (list: V1Container[] | undefined) =>
    status !== undefined
      ? undefined
      : list?.map((c) => ({ name: c.name, ...(c.ports ? { ports: c.ports } : {}) }));
  const initContainers = containers(pod.spec?.initContainers);
  return {
    metadata: {
      ...(metadata.name !== undefined ? { name: metadata.name } : {}),
      ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
      ...(metadata.uid !== undefined ? { uid: metadata.uid } : {}),
      ...(metadata.resourceVersion !== undefined ? { resourceVersion: metadata.resourceVersion } : {}),
      ...(metadata.labels ? { labels: metadata.labels } : {}),
      ...(status !== undefined ? { annotations: { [STATUS_ANNOTATION]: status } } : {}),
      ...(metadata.deletionTimestamp ? { deletionTimestamp: metadata.deletionTimestamp } : {}),
    },
    spec: {
      containers: containers(pod.spec?.containers) ?? [],
      ...(initContainers ? { initContainers } : {}),
      ...(pod.spec?.serviceAccountName ? { serviceAccountName: pod.spec.serviceAccountName } : {}),
    },
    ...(pod.status?.phase ? { status: { phase: pod.status.phase } } : {}),
  };
}
