import type { Config } from "../config.js";
import { sidecarResourceSettings } from "../inject/sidecar-resources.js";
import type { PolicyIndex } from "../policy/policy-index.js";
import { renderConfig } from "../policy/render-config.js";
import type { AdmissionDeps } from "./admission.js";

/**
 * Namespaces the webhook never injects into, whatever a CachePolicy selects: the operator's own (its
 * pods must start while the webhook is down) and kube-system.
 */
export function excludedNamespaces(config: Pick<Config, "namespace">): ReadonlySet<string> {
  return new Set([config.namespace, "kube-system"]);
}

/** What admission reads: the policy a pod gets (from the shared index), LimitRanges and the sidecar's settings. */
export function admissionDeps(
  config: Config,
  index: PolicyIndex,
  nativeSidecar: boolean,
  limitRanges: AdmissionDeps["limitRanges"],
): AdmissionDeps {
  const rendered = new WeakMap<object, string>();
  const excluded = excludedNamespaces(config);
  return {
    findPolicy: (namespace, labels) => {
      if (excluded.has(namespace)) return undefined;
      const verdict = index.policyForPod(namespace, labels);
      if (!verdict) return undefined;
      let configHash = rendered.get(verdict.policy);
      if (configHash === undefined) {
        configHash = renderConfig(verdict.policy).configHash;
        rendered.set(verdict.policy, configHash);
      }
      return { policy: verdict.policy, configHash };
    },
    limitRanges,
    options: {
      image: config.sidecarImage,
      imagePullPolicy: config.sidecarImagePullPolicy,
      version: config.sidecarVersion,
      nativeSidecar,
      pinUser: config.sidecarPinUser,
      ...(config.sidecarLogLevel ? { logLevel: config.sidecarLogLevel } : {}),
      resources: sidecarResourceSettings(config),
    },
  };
}
