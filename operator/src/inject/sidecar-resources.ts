import {
  type CachePolicy,
  parseResourceQuantity,
  quantityBytes,
  sidecarMemoryLimitBytes,
} from "@apicache/crds";
import type { V1LimitRange, V1ResourceRequirements } from "@kubernetes/client-node";
import { RESOURCES, type ResourceName, type Room, type SidecarTarget, sidecarRoom } from "./limit-ranger.js";

/**
 * The injected sidecar's resources, decided purely: built-in defaults, then the operator-wide
 * settings (--sidecar-cpu-request …), then the policy's spec.sidecar.resources, field by field; the
 * memory limit never below the policy's L1 budget; finally fitted into what the namespace's
 * LimitRanges (Container and Pod items) and the rest of the pod leave (limit-ranger.ts), so the API
 * server never rejects a pod because of the sidecar. See docs/operator.md ("Sidecar resources").
 */
export type ResourceList = Partial<Record<ResourceName, string | number>>;

export interface ResourceSettings {
  readonly requests?: ResourceList;
  readonly limits?: ResourceList;
}

/** cpu in cores, memory in bytes: always all four, so no LimitRange default fills a gap. */
export interface Amounts {
  readonly requests: Record<ResourceName, number>;
  readonly limits: Record<ResourceName, number>;
}

const MI = 1024 * 1024;

export const BUILT_IN_RESOURCES = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "500m" },
} as const satisfies ResourceSettings;

/** The operator-wide settings from its flags (config.ts has checked them). */
export function sidecarResourceSettings(flags: {
  readonly sidecarCpuRequest?: string;
  readonly sidecarCpuLimit?: string;
  readonly sidecarMemoryRequest?: string;
  readonly sidecarMemoryLimit?: string;
}): ResourceSettings {
  const list = (cpu?: string, memory?: string): ResourceList => ({
    ...(cpu === undefined ? {} : { cpu }),
    ...(memory === undefined ? {} : { memory }),
  });
  return {
    requests: list(flags.sidecarCpuRequest, flags.sidecarMemoryRequest),
    limits: list(flags.sidecarCpuLimit, flags.sidecarMemoryLimit),
  };
}

export type ResourceDecision =
  | { readonly ok: true; readonly resources: V1ResourceRequirements; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly message: string };

function amount(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : parseResourceQuantity(value);
}

/** The effective amounts before LimitRanges: policy over operator over built-in, field by field. */
export function desiredAmounts(
  policy: CachePolicy,
  operator: ResourceSettings = {},
): { amounts: Amounts; warnings: string[] } {
  const own = policy.spec.sidecar?.resources ?? {};
  const pick = (kind: "requests" | "limits", name: ResourceName) =>
    amount(own[kind]?.[name]) ?? amount(operator[kind]?.[name]);
  const l1 = quantityBytes(policy.spec.store.memory.maxBytes);
  const floor = sidecarMemoryLimitBytes(l1);
  const warnings: string[] = [];
  let memoryLimit = pick("limits", "memory");
  if (memoryLimit !== undefined && memoryLimit < l1) {
    warnings.push(
      `apicache: the sidecar memory limit ${mib(memoryLimit)} is below the policy's L1 budget (store.memory.maxBytes ${mib(l1)}); using ${mib(floor)}`,
    );
    memoryLimit = floor;
  }
  const requests = {
    cpu: pick("requests", "cpu") ?? (amount(BUILT_IN_RESOURCES.requests.cpu) as number),
    memory: pick("requests", "memory") ?? (amount(BUILT_IN_RESOURCES.requests.memory) as number),
  };
  const limits = {
    cpu: Math.max(pick("limits", "cpu") ?? (amount(BUILT_IN_RESOURCES.limits.cpu) as number), requests.cpu),
    memory: Math.max(memoryLimit ?? floor, requests.memory),
  };
  return { amounts: { requests, limits }, warnings };
}

/**
 * The request and limit closest to the wanted ones that the API server admits: min ≤ request ≤ limit,
 * both within their room, limit / request ≤ the Container maxLimitRequestRatio, and a request high
 * enough for a Pod maxLimitRequestRatio. Undefined: no such pair (or none above zero).
 */
function fit(request: number, limit: number, room: Room): [number, number] | undefined {
  const { min, ratio } = room.container;
  const maxRequest = Math.min(room.maxRequest, room.maxLimit);
  let r = Math.min(Math.max(request, min), maxRequest);
  const l = Math.min(Math.max(limit, r), room.maxLimit);
  const needed = Math.max(l / ratio, room.podRequestFor(l));
  if (r < needed) r = Math.min(maxRequest, needed);
  const within = (value: number, bound: number) => value <= bound * (1 + 1e-9);
  if (r <= 0 || r < min || r > l || !within(l / r, ratio) || !within(room.podRequestFor(l), r))
    return undefined;
  return [r, l];
}

function unfit(name: ResourceName, room: Room): string {
  const { container, pod, sums } = room;
  const parts = [
    `Container min ${format(name, container.min)}, max ${format(name, container.max)}, maxLimitRequestRatio ${container.ratio}`,
  ];
  if (Number.isFinite(pod.max) || Number.isFinite(pod.ratio)) {
    parts.push(
      `Pod max ${format(name, pod.max)}, maxLimitRequestRatio ${pod.ratio}, of which the rest of the pod takes ${format(name, sums.limits.base)} of limits and ${format(name, sums.requests.base)} of requests`,
    );
  }
  const level = [sums.requests.fixed, sums.limits.fixed].map((value) => format(name, value ?? Number.NaN));
  if (sums.requests.fixed !== undefined || sums.limits.fixed !== undefined) {
    parts.push(`the pod's own spec.resources request/limit ${level.join("/")}`);
  }
  return `no ${name} request and limit for the sidecar fit the namespace's LimitRanges and the rest of the pod (${parts.join("; ")})`;
}

/**
 * The resources to inject into `target`, or why none fit: the namespace's LimitRanges bound the
 * sidecar as a container and, with a Pod-type item, the pod with the sidecar as a whole.
 */
export function decideResources(
  policy: CachePolicy,
  operator: ResourceSettings,
  limitRanges: readonly V1LimitRange[],
  target: SidecarTarget,
): ResourceDecision {
  const { amounts, warnings } = desiredAmounts(policy, operator);
  if (!Number.isSafeInteger(Math.ceil(amounts.limits.memory))) {
    // Rendered, it would be no quantity the API server accepts (e.g. 1.9e+23Mi): every pod refused.
    return {
      ok: false,
      message: `the sidecar's memory limit for store.memory.maxBytes ${policy.spec.store.memory.maxBytes} is beyond any node's memory (${amounts.limits.memory} bytes); lower maxBytes`,
    };
  }
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  for (const name of RESOURCES) {
    const room = sidecarRoom(limitRanges, target, name);
    const fitted = fit(amounts.requests[name], amounts.limits[name], room);
    if (!fitted) return { ok: false, message: unfit(name, room) };
    const [request, limit] = fitted;
    if (request !== amounts.requests[name] || limit !== amounts.limits[name]) {
      warnings.push(
        `apicache: the sidecar's ${name} request/limit ${format(name, amounts.requests[name])}/${format(name, amounts.limits[name])} were fitted to the namespace's LimitRanges and the rest of the pod: ${format(name, request)}/${format(name, limit)}`,
      );
    }
    requests[name] = format(name, request);
    limits[name] = format(name, limit);
  }
  const l1 = quantityBytes(policy.spec.store.memory.maxBytes);
  const limit = amount(limits.memory) as number;
  if (limit < l1) {
    warnings.push(
      `apicache: the namespace's LimitRanges leave the sidecar a memory limit of ${limits.memory}, below the policy's L1 budget (store.memory.maxBytes): the sidecar may be OOM-killed; lower maxBytes`,
    );
  } else if (limit < sidecarMemoryLimitBytes(l1)) {
    warnings.push(
      `apicache: the sidecar memory limit ${limits.memory} is below what a full L1 of ${mib(l1)} needs (twice store.memory.maxBytes + 160Mi, at least 256Mi = ${mib(sidecarMemoryLimitBytes(l1))}, ADR 0024): the sidecar may be OOM-killed once L1 fills; raise the limit or lower maxBytes`,
    );
  }
  return { ok: true, resources: { requests, limits }, warnings };
}

/** cpu in whole millicores (rounded up), memory in whole bytes or Mi (rounded up). */
function format(name: ResourceName, value: number): string {
  if (Number.isNaN(value)) return "unset";
  if (!Number.isFinite(value)) return "none";
  if (name === "cpu") return `${Math.ceil(value * 1000 - 1e-6)}m`;
  const bytes = Math.ceil(value - 1e-6);
  return bytes % MI === 0 ? `${bytes / MI}Mi` : `${bytes}`;
}

function mib(bytes: number): string {
  return format("memory", bytes);
}
