import { GROUP, PLURAL, VERSION } from "@apicache/crds";

/**
 * Names shared by the operator, the injected pods and the sidecar (the team contract). Pure data.
 */
export const FIELD_MANAGER = "apicache-operator";

export const STATUS_ANNOTATION = "apicache.io/status";
/** On a CachePolicy: a new value makes the operator create its deleted admin token Secret again. */
export const TOKEN_ROTATION_ANNOTATION = "apicache.io/admin-token-rotation";
export const INJECT_LABEL = "apicache.io/inject";
export const NAMESPACE_INJECTION_LABEL = "apicache.io/injection";
export const POLICY_LABEL = "apicache.io/policy";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export const SIDECAR_CONTAINER = "apicache-sidecar";
export const CONFIG_VOLUME = "apicache-config";
export const CONFIG_MOUNT_PATH = "/etc/apicache";
export const POLICY_KEY = "policy.yaml";
export const ADMIN_PORT = 9901;
/** The sidecar's admin token: a Secret per policy, mounted read-only into every injected sidecar. */
export const ADMIN_TOKEN_VOLUME = "apicache-admin-token";
export const ADMIN_TOKEN_MOUNT_PATH = "/var/run/apicache/admin";
export const ADMIN_TOKEN_KEY = "token";
export const ADMIN_PORT_NAME = "apicache-admin";
/** Preferred port of the sidecar's proxy listener; the next free one is taken when an app uses it. */
export const DEFAULT_SIDECAR_PORT = 9900;
export const REDIS_URL_ENV = "APICACHE_REDIS_URL";

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
