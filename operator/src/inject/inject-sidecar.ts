import type { CachePolicy } from "@apicache/crds";
import type { V1Container, V1LimitRange, V1Pod } from "@kubernetes/client-node";
import {
  ADMIN_PORT,
  ADMIN_TOKEN_VOLUME,
  adminTokenSecretName,
  CONFIG_VOLUME,
  configMapName,
  DEFAULT_SIDECAR_PORT,
  INJECT_LABEL,
  SIDECAR_CONTAINER,
  STATUS_ANNOTATION,
} from "../constants.js";
import { appPortName, findUpstreamPort, freePort, isPortName, renameAppPort, usedPorts } from "./ports.js";
import { sidecarContainer } from "./sidecar-container.js";
import { decideResources, type ResourceSettings } from "./sidecar-resources.js";

/**
 * Sidecar injection as a pure transform: a Pod and its CachePolicy in, the Pod to admit out (or the
 * reason it is left alone). The webhook turns the difference into a JSON patch.
 */
export interface InjectOptions {
  readonly image: string;
  /** Recorded in the status annotation. */
  readonly version: string;
  /** initContainer with restartPolicy Always (Kubernetes ≥ 1.29) instead of a plain container. */
  readonly nativeSidecar: boolean;
  /** Hash of the rendered config the pod starts with (status annotation; upToDatePods). */
  readonly configHash: string;
  readonly imagePullPolicy?: string;
  readonly sidecarPort?: number;
  readonly logLevel?: string;
  /**
   * Pin the sidecar's UID/GID to the image's non-root 65532 (default). False leaves them to the
   * cluster: OpenShift's restricted SCCs assign each namespace a range and refuse pinned IDs outside it.
   */
  readonly pinUser?: boolean;
  /** Operator-wide sidecar resources; a policy's spec.sidecar.resources wins field by field. */
  readonly resources?: ResourceSettings;
  /** The LimitRanges of the pod's namespace: the sidecar's resources are fitted into them. */
  readonly limitRanges?: readonly V1LimitRange[];
}

export const SKIP_REASONS = [
  "AlreadyInjected",
  "OptedOut",
  "HostNetwork",
  "UnknownUpstreamPort",
  "NameConflict",
  "ResourceLimits",
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type InjectionResult =
  | { readonly injected: true; readonly pod: V1Pod; readonly warnings: readonly string[] }
  | { readonly injected: false; readonly reason: SkipReason; readonly message: string; readonly pod: V1Pod };

/** The content of the `apicache.io/status` annotation. */
export interface InjectionStatus {
  readonly policy: string;
  readonly configHash: string;
  readonly version: string;
  readonly native: boolean;
}

export function parseInjectionStatus(pod: V1Pod): InjectionStatus | undefined {
  const raw = pod.metadata?.annotations?.[STATUS_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<InjectionStatus>;
    return typeof value.configHash === "string" ? (value as InjectionStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** Injected already: the status annotation, or our container in containers or initContainers. */
export function isInjected(pod: V1Pod): boolean {
  if (pod.metadata?.annotations?.[STATUS_ANNOTATION] !== undefined) return true;
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return all.some((container) => container.name === SIDECAR_CONTAINER);
}

function skip(pod: V1Pod, reason: SkipReason, message: string): InjectionResult {
  return { injected: false, reason, message, pod };
}

function precheck(pod: V1Pod): InjectionResult | undefined {
  if (isInjected(pod)) return skip(pod, "AlreadyInjected", "the pod already carries the apicache sidecar");
  if (pod.metadata?.labels?.[INJECT_LABEL] === "false") {
    return skip(pod, "OptedOut", `the pod is labelled ${INJECT_LABEL}: "false"`);
  }
  if (pod.spec?.hostNetwork === true) {
    return skip(pod, "HostNetwork", "hostNetwork pods share the node's ports: the sidecar is not injected");
  }
  const taken = (pod.spec?.volumes ?? []).find((volume) =>
    [CONFIG_VOLUME, ADMIN_TOKEN_VOLUME].includes(volume.name),
  );
  if (taken) return skip(pod, "NameConflict", `the pod already has a volume named ${taken.name}`);
  return undefined;
}

export function injectSidecar(pod: V1Pod, policy: CachePolicy, options: InjectOptions): InjectionResult {
  const early = precheck(pod);
  if (early) return early;
  const wanted = policy.spec.upstream.port;
  const upstream = findUpstreamPort(pod, wanted);
  if (!upstream) {
    return skip(pod, "UnknownUpstreamPort", `no container declares a port named ${JSON.stringify(wanted)}`);
  }
  const used = usedPorts(pod);
  if (used.numbers.has(ADMIN_PORT)) {
    return skip(
      pod,
      "NameConflict",
      `a container already uses port ${ADMIN_PORT} (the sidecar's admin port)`,
    );
  }
  const renamed = upstream.name ? appPortName(upstream.name) : undefined;
  if (renamed !== undefined && (used.names.has(renamed) || !isPortName(renamed))) {
    return skip(pod, "NameConflict", `cannot rename port ${upstream.name}: ${renamed} is taken or invalid`);
  }
  const resources = decideResources(policy, options.resources ?? {}, options.limitRanges ?? [], {
    pod,
    native: options.nativeSidecar,
  });
  if (!resources.ok) return skip(pod, "ResourceLimits", resources.message);
  const containers = [...(pod.spec?.containers ?? [])];
  const app = containers[upstream.containerIndex];
  if (app && upstream.name && renamed) {
    containers[upstream.containerIndex] = renameAppPort(app, upstream.name, renamed);
  }
  const sidecar = sidecarContainer({
    policy,
    image: options.image,
    upstreamPort: upstream.number,
    listenPort: freePort(used.numbers, options.sidecarPort ?? DEFAULT_SIDECAR_PORT, [ADMIN_PORT]),
    portName: upstream.name ?? "apicache-proxy",
    native: options.nativeSidecar,
    resources: resources.resources,
    ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    pinUser: options.pinUser ?? true,
  });
  const injected = assemble(pod, { containers, sidecar, policy, options, app });
  return { injected: true, pod: injected, warnings: resources.warnings };
}

interface Parts {
  readonly containers: V1Container[];
  readonly sidecar: V1Container;
  readonly policy: CachePolicy;
  readonly options: InjectOptions;
  readonly app: V1Container | undefined;
}

function assemble(pod: V1Pod, parts: Parts): V1Pod {
  const { sidecar, policy, options } = parts;
  const status: InjectionStatus = {
    policy: policy.metadata.name,
    configHash: options.configHash,
    version: options.version,
    native: options.nativeSidecar,
  };
  const annotations: Record<string, string> = extended(pod.metadata?.annotations, {
    [STATUS_ANNOTATION]: JSON.stringify(status),
  });
  const defaultContainer = "kubectl.kubernetes.io/default-container";
  const first = parts.app ?? parts.containers[0];
  if (annotations[defaultContainer] === undefined && first) annotations[defaultContainer] = first.name;
  const spec = pod.spec ?? { containers: [] };
  const volumes = [
    ...(spec.volumes ?? []),
    { name: CONFIG_VOLUME, configMap: { name: configMapName(policy.metadata.name) } },
    // optional: a pod admitted before the operator created the Secret still starts; the kubelet
    // fills the volume once the Secret exists, and the sidecar picks the token up (--admin-token-wait).
    {
      name: ADMIN_TOKEN_VOLUME,
      secret: { secretName: adminTokenSecretName(policy.metadata.name), optional: true },
    },
  ];
  // Two literals, not a spread followed by `volumes`: each keeps one hidden class (ADR 0036).
  const fields = options.nativeSidecar
    ? { initContainers: [sidecar, ...(spec.initContainers ?? [])], containers: parts.containers, volumes }
    : { containers: [...parts.containers, sidecar], volumes };
  return {
    ...pod,
    metadata: extended(pod.metadata, { annotations }),
    spec: extended(spec, fields),
  };
}

/**
 * `{ ...base, ...fields }`, built with Object.assign. On Node 20 (V8 11.3), an object spread followed
 * by a key the spread object lacks gets a hidden class of its own on every call from the ninth on: each
 * admission left dead maps, descriptor arrays and enum caches in the old generation (ADR 0036).
 */
function extended<T extends object, U extends object>(base: T | undefined, fields: U): T & U {
  return Object.assign({}, base, fields);
}
