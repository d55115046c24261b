/**
 * The names the operator and the sidecar share (issue #17): the injected container's ports, the files
 * mounted into it, and the labels and annotations on pods and policies. Pure data: the operator builds
 * the pod from these, the sidecar listens and reads by them. The sidecar's flags are in sidecar-flags.ts.
 */

/** The injected container's name. */
export const SIDECAR_CONTAINER = "apicache-sidecar";

/** The policy's rendered config: a ConfigMap volume, its data key, and the file the sidecar reads. */
export const CONFIG_VOLUME = "apicache-config";
export const CONFIG_MOUNT_PATH = "/etc/apicache";
/** The data key of a policy's ConfigMap, and the file name it is mounted as. */
export const POLICY_KEY = "policy.yaml";
export const POLICY_FILE = `${CONFIG_MOUNT_PATH}/${POLICY_KEY}`;

/** The sidecar's admin listener: probes, /metrics, /invalidate, /warm, /stats. */
export const ADMIN_PORT = 9901;
export const ADMIN_PORT_NAME = "apicache-admin";
/** The admin endpoints the kubelet probes. */
export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";

/** The sidecar's admin token: a Secret per policy, mounted read-only into every injected sidecar. */
export const ADMIN_TOKEN_VOLUME = "apicache-admin-token";
export const ADMIN_TOKEN_MOUNT_PATH = "/var/run/apicache/admin";
export const ADMIN_TOKEN_KEY = "token";
export const ADMIN_TOKEN_FILE = `${ADMIN_TOKEN_MOUNT_PATH}/${ADMIN_TOKEN_KEY}`;

/** Preferred port of an injected sidecar's proxy listener; the next free one is taken when an app uses it. */
export const DEFAULT_SIDECAR_PORT = 9900;
/** The proxy listener of a sidecar started by hand (no --listen). */
export const DEFAULT_LISTEN = "0.0.0.0:8080";
/** The admin listener of a sidecar started by hand (no --admin): loopback, so no token is needed. */
export const DEFAULT_ADMIN = `127.0.0.1:${ADMIN_PORT}`;

/** On a pod: "false" keeps the sidecar out. */
export const INJECT_LABEL = "apicache.io/inject";
/** On a namespace: "enabled" lets the injection webhook see its pods. */
export const NAMESPACE_INJECTION_LABEL = "apicache.io/injection";
/** On what the operator creates for a policy (its ConfigMap, …): the policy's name. */
export const POLICY_LABEL = "apicache.io/policy";
/** On an injected pod: what the injection did (policy, sidecar version). */
export const STATUS_ANNOTATION = "apicache.io/status";
/** On a CachePolicy: a new value makes the operator create its deleted admin token Secret again. */
export const TOKEN_ROTATION_ANNOTATION = "apicache.io/admin-token-rotation";
