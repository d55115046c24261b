import { GROUP, PLURAL, VERSION } from "@apicache/crds";

/**
 * The operator's names. Those it shares with the injected pods and the sidecar (ports, files, labels,
 * annotations) are defined once in crds/src/sidecar-contract.ts and re-exported here. Pure data.
 */
export {
  ADMIN_PORT,
  ADMIN_TOKEN_KEY,
  ADMIN_TOKEN_VOLUME,
  CONFIG_VOLUME,
  DEFAULT_SIDECAR_PORT,
  INJECT_LABEL,
  NAMESPACE_INJECTION_LABEL,
  POLICY_KEY,
  POLICY_LABEL,
  SIDECAR_CONTAINER,
  STATUS_ANNOTATION,
  TOKEN_ROTATION_ANNOTATION,
} from "@apicache/crds";

export const FIELD_MANAGER = "apicache-operator";

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export const WEBHOOK_PATH = "/mutate-v1-pod";
export const WEBHOOK_NAME = "sidecar-injector.apicache.io";

/** Name of the ConfigMap (and its Role/RoleBinding) that carries a policy's rendered config. */
export function configMapName(policyName: string): string {
  return `apicache-${policyName}`;
}

/** Name of the Secret holding a policy's admin API token (key `token`). */
export function adminTokenSecretName(policyName: string): string {
  return `apicache-${policyName}-admin`;
}

/** The CachePolicy API's coordinates, as crds/ defines them. */
export const CACHEPOLICY = { group: GROUP, version: VERSION, plural: PLURAL } as const;

/** How long a new leader may take to start its controller (owned informers synced) before it gives the Lease up. */
export const LEADER_START_DEADLINE_MS = 60_000;
