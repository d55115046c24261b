import type { CachePolicy } from "@apicache/crds";
import type { V1Pod } from "@kubernetes/client-node";
import { INJECT_LABEL } from "../constants.js";
import { isInjected, parseInjectionStatus } from "../inject/inject-sidecar.js";
import { findUpstreamPort } from "../inject/ports.js";
import { selectorMatches } from "../policy/selector.js";

/** What the status reports about a policy's pods, computed from the pod cache. Pure. */
export interface PodCounts {
  readonly selected: number;
  readonly injected: number;
  readonly upToDate: number;
  /** Selected, not injected pods none of whose containers declares the named upstream port. */
  readonly missingPort: readonly string[];
  /**
   * Selected pods the webhook could have injected but did not (they declare the port and did not opt
   * out): created before the policy existed, or while the webhook was unreachable (it fails open).
   */
  readonly notInjected: readonly string[];
  /**
   * Service accounts of the pods running this policy's sidecar (the ConfigMap's RoleBinding): only an
   * injected sidecar reads the ConfigMap, so a pod without one is granted nothing.
   */
  readonly serviceAccounts: readonly string[];
}

/** No pods at all (a policy whose namespace has none, or none synced yet). */
export const NO_PODS: PodCounts = {
  selected: 0,
  injected: 0,
  upToDate: 0,
  missingPort: [],
  notInjected: [],
  serviceAccounts: [],
};

function live(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata?.deletionTimestamp === undefined && phase !== "Succeeded" && phase !== "Failed";
}

export function selectedPods(pods: readonly V1Pod[], policy: CachePolicy): V1Pod[] {
  return pods.filter((pod) => live(pod) && selectorMatches(policy.spec.selector, pod.metadata?.labels));
}

export function countPods(
  pods: readonly V1Pod[],
  policy: CachePolicy,
  configHash: string | undefined,
): PodCounts {
  const selected = selectedPods(pods, policy);
  let injected = 0;
  let upToDate = 0;
  const missingPort: string[] = [];
  const notInjected: string[] = [];
  const serviceAccounts = new Set<string>();
  for (const pod of selected) {
    const status = parseInjectionStatus(pod);
    if (status && status.policy === policy.metadata.name) {
      injected += 1;
      serviceAccounts.add(pod.spec?.serviceAccountName || "default");
      if (configHash !== undefined && status.configHash === configHash) upToDate += 1;
      continue;
    }
    if (isInjected(pod) || pod.metadata?.labels?.[INJECT_LABEL] === "false") continue;
    const name = pod.metadata?.name ?? "";
    if (findUpstreamPort(pod, policy.spec.upstream.port)) notInjected.push(name);
    else missingPort.push(name);
  }
  return {
    selected: selected.length,
    injected,
    upToDate,
    missingPort: missingPort.sort(),
    notInjected: notInjected.sort(),
    serviceAccounts: [...serviceAccounts].sort(),
  };
}
