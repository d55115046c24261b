import { parseResourceQuantity } from "@apicache/crds";
import type {
  V1Container,
  V1LimitRange,
  V1LimitRangeItem,
  V1Pod,
  V1ResourceRequirements,
} from "@kubernetes/client-node";

/**
 * What the LimitRanger admission plugin (kubernetes plugin/pkg/admission/limitranger) will check a pod
 * against, read purely from the namespace's LimitRanges and the pod: the bounds of one container,
 * what a `Pod`-type item allows for the sum of the pod, and how the sidecar adds to that sum.
 * cpu in cores, memory in bytes. See docs/operator.md ("Sidecar resources").
 */
export type ResourceName = "cpu" | "memory";
export const RESOURCES: readonly ResourceName[] = ["cpu", "memory"];

export interface ContainerBounds {
  readonly min: number;
  readonly max: number;
  readonly ratio: number;
}

/** A `Pod`-type item: its max applies to the pod's summed limits and requests, its ratio to their quotient. */
export interface PodBounds {
  readonly max: number;
  readonly ratio: number;
}

/**
 * One resource of the pod, summed the way LimitRanger sums it, as a function of the sidecar's amount
 * s: max(base + s, peak); or `fixed` (a pod-level `spec.resources` value, which replaces the sum).
 */
export interface PodSum {
  readonly base: number;
  readonly peak: number;
  readonly fixed?: number;
}

export interface PodSums {
  readonly requests: PodSum;
  readonly limits: PodSum;
}

type Amounts = Record<"requests" | "limits", Partial<Record<ResourceName, number>>>;

function amount(value: string | number | undefined): number | undefined {
  return value === undefined ? undefined : parseResourceQuantity(value);
}

function items(limitRanges: readonly V1LimitRange[], type: "Container" | "Pod"): V1LimitRangeItem[] {
  return limitRanges.flatMap((range) => range.spec?.limits ?? []).filter((item) => item.type === type);
}

/** The tightest Container bounds over every LimitRange of the namespace, per resource. */
export function containerBounds(limitRanges: readonly V1LimitRange[]): Record<ResourceName, ContainerBounds> {
  const bounds = {
    cpu: { min: 0, max: Number.POSITIVE_INFINITY, ratio: Number.POSITIVE_INFINITY },
    memory: { min: 0, max: Number.POSITIVE_INFINITY, ratio: Number.POSITIVE_INFINITY },
  };
  for (const item of items(limitRanges, "Container")) {
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
 * The tightest Pod bounds, per resource. A Pod `min` is left out: it is checked against the pod's
 * summed requests and limits, which the sidecar only raises, so it never fails because of it.
 */
export function podBounds(limitRanges: readonly V1LimitRange[]): Record<ResourceName, PodBounds> {
  const bounds = {
    cpu: { max: Number.POSITIVE_INFINITY, ratio: Number.POSITIVE_INFINITY },
    memory: { max: Number.POSITIVE_INFINITY, ratio: Number.POSITIVE_INFINITY },
  };
  for (const item of items(limitRanges, "Pod")) {
    for (const name of RESOURCES) {
      const max = amount(item.max?.[name]);
      const ratio = amount(item.maxLimitRequestRatio?.[name]);
      if (max !== undefined) bounds[name].max = Math.min(bounds[name].max, max);
      if (ratio !== undefined) bounds[name].ratio = Math.min(bounds[name].ratio, ratio);
    }
  }
  return bounds;
}

/** An item's `default`: client-node calls it `_default` in a typed list, a watch event keeps `default`. */
function defaultOf(item: V1LimitRangeItem): Record<string, string> | undefined {
  return item._default ?? (item as { default?: Record<string, string> }).default;
}

/**
 * The defaults LimitRanger gives a container that sets no request or limit: `default` and
 * `defaultRequest` of the Container items, as the API server stores them (a missing `default` is the
 * `max`; a missing `defaultRequest` the `default`, else the `min`). The first LimitRange that sets
 * one wins: the plugin applies them in turn and fills only what is still missing.
 */
export function containerDefaults(limitRanges: readonly V1LimitRange[]): Amounts {
  const defaults: Amounts = { requests: {}, limits: {} };
  for (const range of limitRanges) {
    const own: Amounts = { requests: {}, limits: {} };
    for (const item of items([range], "Container")) {
      for (const name of RESOURCES) {
        const limit = amount(defaultOf(item)?.[name] ?? item.max?.[name]);
        const request = amount(item.defaultRequest?.[name]) ?? limit ?? amount(item.min?.[name]);
        if (limit !== undefined) own.limits[name] = limit;
        if (request !== undefined) own.requests[name] = request;
      }
    }
    defaults.limits = { ...own.limits, ...defaults.limits };
    defaults.requests = { ...own.requests, ...defaults.requests };
  }
  return defaults;
}

/**
 * A container's amounts as LimitRanger sees them: its own; a request it does not set is its limit
 * (the API server's defaulting); then the LimitRange defaults for what is still missing. The webhook
 * is called after LimitRanger has filled them in, so this only repeats what the pod already says.
 */
function effective(resources: V1ResourceRequirements | undefined, defaults: Amounts, name: ResourceName) {
  const limit = amount(resources?.limits?.[name]) ?? defaults.limits[name];
  const request =
    amount(resources?.requests?.[name]) ?? amount(resources?.limits?.[name]) ?? defaults.requests[name];
  return { requests: request ?? 0, limits: limit ?? 0 };
}

/** One resource of one kind summed over the pod (LimitRanger's podRequests/podLimits), and how s adds to it. */
function sum(pod: V1Pod, native: boolean, amountOf: (container: V1Container) => number): PodSum {
  let regular = 0;
  for (const container of pod.spec?.containers ?? []) regular += amountOf(container);
  // Init containers run one after the other, each next to the restartable (native sidecar) ones
  // started before it; restartable ones also run next to the app, so they count into the sum.
  let restartable = 0;
  let peak = 0;
  for (const container of pod.spec?.initContainers ?? []) {
    const own = amountOf(container);
    if (container.restartPolicy === "Always") {
      regular += own;
      restartable += own;
      peak = Math.max(peak, restartable);
    } else peak = Math.max(peak, restartable + own);
  }
  // A native sidecar goes first among the init containers: it runs next to every one of them too.
  return native ? { base: Math.max(regular, peak), peak: 0 } : { base: regular, peak };
}

/** The pod's summed requests and limits of `name` without the sidecar, and how the sidecar adds to them. */
export function podSums(
  pod: V1Pod,
  native: boolean,
  limitRanges: readonly V1LimitRange[],
  name: ResourceName,
): PodSums {
  const defaults = containerDefaults(limitRanges);
  const podLevel = pod.spec?.resources;
  const of = (kind: "requests" | "limits"): PodSum => {
    const fixed = amount(podLevel?.[kind]?.[name]);
    const summed = sum(pod, native, (container) => effective(container.resources, defaults, name)[kind]);
    return fixed === undefined ? summed : { ...summed, fixed };
  };
  return { requests: of("requests"), limits: of("limits") };
}

/** The pod's total, as LimitRanger's Pod check sees it, with the sidecar's amount `s` added. */
export function podTotal(sum: PodSum, s: number): number {
  return sum.fixed ?? Math.max(sum.base + s, sum.peak);
}

/** Where the sidecar goes: the pod as the webhook received it, and whether as a native sidecar. */
export interface SidecarTarget {
  readonly pod: V1Pod;
  readonly native: boolean;
}

/** What the API server lets the sidecar have of one resource, in this pod, in this namespace. */
export interface Room {
  readonly container: ContainerBounds;
  readonly pod: PodBounds;
  readonly sums: PodSums;
  /** The highest limit: the Container max, what a Pod max leaves, a pod-level limit. */
  readonly maxLimit: number;
  /** The highest request: what a Pod max leaves, and what pod-level requests leave. */
  readonly maxRequest: number;
  /** The lowest request that keeps the pod's limit / request within a Pod maxLimitRequestRatio. */
  readonly podRequestFor: (limit: number) => number;
}

/**
 * A Pod max bounds the pod's summed limits and its summed requests, so the sidecar gets what the rest
 * of the pod leaves of each. Pod-level `spec.resources` (PodLevelResources) replace those sums in the
 * Pod check, but the API server requires them to cover the containers' summed requests and no
 * container's limit to exceed them.
 */
export function sidecarRoom(
  limitRanges: readonly V1LimitRange[],
  target: SidecarTarget,
  name: ResourceName,
): Room {
  const container = containerBounds(limitRanges)[name];
  const pod = podBounds(limitRanges)[name];
  const sums = podSums(target.pod, target.native, limitRanges, name);
  const { requests, limits } = sums;
  const leftOf = (sum: PodSum) => (sum.fixed === undefined ? pod.max - sum.base : Number.POSITIVE_INFINITY);
  const podRequestFor = (limit: number): number => {
    if (!Number.isFinite(pod.ratio)) return 0;
    const needed = podTotal(limits, limit) / pod.ratio;
    if (requests.fixed !== undefined) return requests.fixed >= needed ? 0 : Number.POSITIVE_INFINITY;
    return requests.peak >= needed ? 0 : Math.max(0, needed - requests.base);
  };
  return {
    container,
    pod,
    sums,
    maxLimit: Math.min(container.max, leftOf(limits), limits.fixed ?? Number.POSITIVE_INFINITY),
    maxRequest: Math.min(
      container.max,
      leftOf(requests),
      requests.fixed === undefined ? Number.POSITIVE_INFINITY : requests.fixed - requests.base,
    ),
    podRequestFor,
  };
}
