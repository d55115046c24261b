import {
  ADMIN_PORT,
  ADMIN_PORT_NAME,
  ADMIN_TOKEN_FILE,
  ADMIN_TOKEN_MOUNT_PATH,
  ADMIN_TOKEN_VOLUME,
  type CachePolicy,
  CONFIG_MOUNT_PATH,
  CONFIG_VOLUME,
  HEALTH_PATH,
  POLICY_FILE,
  READY_PATH,
  SIDECAR_CONTAINER,
  sidecarArgs,
  sidecarEnvName,
} from "@apicache/crds";
import type { V1Container, V1EnvVar, V1ResourceRequirements } from "@kubernetes/client-node";
import { configMapName } from "../constants.js";

/** The sidecar image's numeric non-root user and group (sidecar/Dockerfile: USER 65532:65532). */
const SIDECAR_UID = 65532;

/** The injected container, per the sidecar's contract (crds/src/sidecar-contract.ts, sidecar-flags.ts). Pure. */
export interface SidecarSpec {
  readonly policy: CachePolicy;
  readonly image: string;
  readonly imagePullPolicy?: string;
  readonly upstreamPort: number;
  readonly listenPort: number;
  /** The name the sidecar's proxy port takes (the app port's original name). */
  readonly portName: string;
  readonly native: boolean;
  readonly logLevel?: string;
  /** Decided by decideResources (sidecar-resources.ts). */
  readonly resources: V1ResourceRequirements;
  /** runAsUser/runAsGroup 65532 (the image's user); false: the cluster assigns them (OpenShift). */
  readonly pinUser: boolean;
}

/**
 * The sidecar's environment: the Redis URL and nothing else. The pod's name and namespace are not
 * passed. The sidecar has no use for them, and log shippers and Prometheus add them to every log line
 * and series from the pod's own metadata.
 */
function sidecarEnv(policy: CachePolicy): V1EnvVar[] {
  const redis = policy.spec.store.redis;
  if (!redis) return [];
  // Credentials stay in the Secret: a reference, never a value, never in the ConfigMap.
  const { name, key } = redis.urlSecretRef;
  return [{ name: sidecarEnvName("redis"), valueFrom: { secretKeyRef: { name, key } } }];
}

export function sidecarContainer(spec: SidecarSpec): V1Container {
  const { policy } = spec;
  const args = sidecarArgs({
    policy: POLICY_FILE,
    "policy-configmap": `${policy.metadata.namespace}/${configMapName(policy.metadata.name)}`,
    upstream: `http://127.0.0.1:${spec.upstreamPort}`,
    listen: `0.0.0.0:${spec.listenPort}`,
    admin: `0.0.0.0:${ADMIN_PORT}`,
    // The admin port is reachable from every pod: /invalidate, /warm and /stats need the policy's
    // token. The Secret volume is optional (a pod may be admitted before the operator created the
    // Secret): until the file appears, the sidecar refuses those endpoints instead of failing to start.
    "admin-token-file": ADMIN_TOKEN_FILE,
    "admin-token-wait": true,
    "log-level": spec.logLevel,
  });
  // One literal per probe, not `{ ...probe, periodSeconds }`: ADR 0036 (a hidden class per call).
  const adminProbe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: ADMIN_PORT_NAME },
    periodSeconds,
    failureThreshold,
  });
  const env = sidecarEnv(policy);
  return {
    name: SIDECAR_CONTAINER,
    image: spec.image,
    ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
    ...(spec.native ? { restartPolicy: "Always" } : {}),
    args,
    ...(env.length > 0 ? { env } : {}),
    ports: [
      { name: spec.portName, containerPort: spec.listenPort, protocol: "TCP" },
      { name: ADMIN_PORT_NAME, containerPort: ADMIN_PORT, protocol: "TCP" },
    ],
    // Native sidecars: the app starts only once the startup probe passes, so its first requests
    // already find the cache listening.
    startupProbe: adminProbe(HEALTH_PATH, 1, 30),
    readinessProbe: adminProbe(READY_PATH, 5, 3),
    livenessProbe: adminProbe(HEALTH_PATH, 10, 3),
    resources: spec.resources,
    securityContext: {
      runAsNonRoot: true,
      ...(spec.pinUser ? { runAsUser: SIDECAR_UID, runAsGroup: SIDECAR_UID } : {}),
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [
      { name: CONFIG_VOLUME, mountPath: CONFIG_MOUNT_PATH, readOnly: true },
      { name: ADMIN_TOKEN_VOLUME, mountPath: ADMIN_TOKEN_MOUNT_PATH, readOnly: true },
    ],
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
}
