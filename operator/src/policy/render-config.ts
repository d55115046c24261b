import { type CachePolicy, policyHash, renderSidecarConfig } from "@apicache/crds";
import {
  CACHEPOLICY,
  configMapName,
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  PART_OF_LABEL,
  POLICY_KEY,
  POLICY_LABEL,
} from "../constants.js";

/**
 * The sidecar's configuration for one policy: a `SidecarConfig` (crds/src/sidecar-config.ts: the
 * sidecar's own schema, versioned apart from the CRD — docs/adr/0014-api-evolution.md) holding the
 * normalized policy's sidecar fields, as YAML (what `apicache-sidecar --policy` reads), and its hash.
 * The generation rides on a revision comment line (crds/src/policy-text.ts) that the hash leaves out,
 * so the hash changes only when the effective configuration does, while a sidecar can tell a newer
 * text from an older one. Pure.
 */
export interface RenderedConfig {
  readonly yaml: string;
  /** `sha256:<hex>` of `yaml`. */
  readonly configHash: string;
}

export function renderConfig(policy: CachePolicy): RenderedConfig {
  const { namespace, name } = policy.metadata;
  const yaml = renderSidecarConfig(
    policy,
    `Rendered by ${FIELD_MANAGER} from CachePolicy ${namespace}/${name}. Do not edit.`,
  );
  return { yaml, configHash: policyHash(yaml) };
}

/** The object a policy owns (controller reference), so deleting the policy garbage-collects it. */
export interface PolicyRef {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export function ownedMetadata(policy: PolicyRef, name = configMapName(policy.name)) {
  return {
    name,
    namespace: policy.namespace,
    labels: {
      [MANAGED_BY_LABEL]: FIELD_MANAGER,
      [PART_OF_LABEL]: "apicache",
      [POLICY_LABEL]: policy.name,
    },
    ownerReferences: [
      {
        apiVersion: `${CACHEPOLICY.group}/${CACHEPOLICY.version}`,
        kind: "CachePolicy",
        name: policy.name,
        uid: policy.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

export function configMapManifest(policy: PolicyRef, rendered: RenderedConfig) {
  const metadata = ownedMetadata(policy);
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { ...metadata, annotations: { "apicache.io/config-hash": rendered.configHash } },
    data: { [POLICY_KEY]: rendered.yaml },
  };
}

/** Read access to exactly the policy's ConfigMap, for the sidecar's `--policy-configmap` watch. */
export function roleManifest(policy: PolicyRef) {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: ownedMetadata(policy),
    rules: [
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: [configMapName(policy.name)],
        verbs: ["get", "list", "watch"],
      },
    ],
  };
}

export function roleBindingManifest(policy: PolicyRef, serviceAccounts: readonly string[]) {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: ownedMetadata(policy),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: configMapName(policy.name) },
    subjects: [...new Set(serviceAccounts)].sort().map((name) => ({
      kind: "ServiceAccount",
      name,
      namespace: policy.namespace,
    })),
  };
}
