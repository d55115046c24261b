import { type CachePolicy, parseResourceQuantity, quantityBytes } from "@apicache/crds";
import type { V1LimitRange, V1ResourceRequirements } from "@kubernetes/client-node";

/**
 * The injected sidecar's resources, decided purely: built-in defaults, then the operator-wide
 * settings (--sidecar-cpu-request …), then the policy's spec.sidecar.resources, field by field; the
 * memory limit never below the policy's L1 budget; finally clamped into the namespace's LimitRanges
 * so the API server never rejects a pod because of the sidecar. See docs/operator.md ("Resources").
 */
export type ResourceName = "cpu" | "memory";
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

export const BUILT_IN_RESOURCES = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "500m" },
} as const satisfies ResourceSettings;

const MI = 1024 * 1024;
/** Room above the L1 budget for the runtime, the Redis client and requests in flight. */
export const MEMORY_HEADROOM_BYTES = 128 * MI;
const RESOURCES: readonly ResourceName[] = ["cpu", "memory"];

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
  const floor = l1 + MEMORY_HEADROOM_BYTES;
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

interface Bounds {
  min: number;
  max: number;
  ratio: number;
}

/** The tightest Container bounds over every LimitRange of the namespace, per resource. */
export function containerBounds(limitRanges: readonly V1LimitRange[]): Record<ResourceName, Bounds> {
  const bounds = {
    cpu: { min: 0, max: Number.POSITIVE_INFINITY, ratio: Number.POSITIVE_INFINITY },
    memory: { min: 0, max: Number.POSITIVE_INFINITY, ratio: Number.POSITIVE_INFINITY },
  };
  for (const item of limitRanges.flatMap((range) => range.spec?.limits ?? [])) {
    if (item.type !== "Container") continue;
    for (const name of RESOURCES) {
      const min = amount(item.min?.[name]);
      const max = amount(item.max?.[name]);
      const ratio = amount(item.maxLimitRequestRatio?.[name]);
      if (min !== undefined) bounds[name].min = Math.max(bounds[name].min, min);
      if (max !== undefined) bounds[name].max = Math.min(bounds[name].max, max);
      if (ratio !== undefined) bounds[name].ratio = Math.min(bounds[name].ratio, ratio);
    }
  }
  return bounds;
}

/**
 * Clamps one resource into its bounds the way the LimitRanger admission plugin checks them:
 * min ≤ request ≤ limit ≤ max and limit / request ≤ maxLimitRequestRatio. Undefined: no such pair.
 */
function clamp(request: number, limit: number, bounds: Bounds): [number, number] | undefined {
  const { min, max, ratio } = bounds;
  if (min > max) return undefined;
  let r = Math.min(Math.max(request, min), max);
  const l = Math.min(Math.max(limit, r), max);
  if (l / r > ratio) r = Math.min(max, l / ratio);
  if (r < min || l > max || r > l || l / r > ratio * (1 + 1e-9)) return undefined;
  return [r, l];
}

/** The resources to inject, or why no resources fit the namespace's LimitRanges. */
export function decideResources(
  policy: CachePolicy,
  operator: ResourceSettings,
  limitRanges: readonly V1LimitRange[],
): ResourceDecision {
  const { amounts, warnings } = desiredAmounts(policy, operator);
  const bounds = containerBounds(limitRanges);
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  for (const name of RESOURCES) {
    const fitted = clamp(amounts.requests[name], amounts.limits[name], bounds[name]);
    if (!fitted) {
      return {
        ok: false,
        message: `no ${name} request and limit for the sidecar satisfy the LimitRanges of the namespace (min ${format(name, bounds[name].min)}, max ${format(name, bounds[name].max)}, maxLimitRequestRatio ${bounds[name].ratio})`,
      };
    }
    const [request, limit] = fitted;
    if (request !== amounts.requests[name] || limit !== amounts.limits[name]) {
      warnings.push(
        `apicache: the sidecar's ${name} request/limit ${format(name, amounts.requests[name])}/${format(name, amounts.limits[name])} were fitted to the namespace's LimitRange: ${format(name, request)}/${format(name, limit)}`,
      );
    }
    requests[name] = format(name, request);
    limits[name] = format(name, limit);
  }
  if ((amount(limits.memory) as number) < quantityBytes(policy.spec.store.memory.maxBytes)) {
    warnings.push(
      `apicache: the namespace's LimitRange caps the sidecar's memory at ${limits.memory}, below the policy's L1 budget (store.memory.maxBytes): the sidecar may be OOM-killed; lower maxBytes`,
    );
  }
  return { ok: true, resources: { requests, limits }, warnings };
}

/** cpu in whole millicores (rounded up), memory in whole bytes or Mi (rounded up). */
function format(name: ResourceName, value: number): string {
  if (!Number.isFinite(value)) return "none";
  if (name === "cpu") return `${Math.ceil(value * 1000 - 1e-6)}m`;
  const bytes = Math.ceil(value - 1e-6);
  return bytes % MI === 0 ? `${bytes / MI}Mi` : `${bytes}`;
}

function mib(bytes: number): string {
  return format("memory", bytes);
}
