import type { CachePolicyStatus } from "@apicache/crds";

/** A CachePolicy as the API server stores it (what informers and AdmissionReviews carry). */
export interface StoredPolicy {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly generation?: number;
    readonly resourceVersion?: string;
    readonly creationTimestamp?: Date | string;
    readonly deletionTimestamp?: Date | string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec?: unknown;
  readonly status?: CachePolicyStatus;
}

/**
 * What a verdict keeps of its stored policy: who it is and how old (overlap precedence), nothing a
 * status update changes. A verdict outlives the object it was parsed from (it is memoized per
 * generation), and 5,000 stale copies of whole policies were 8 MiB of the operator's heap.
 */
export interface PolicyIdentity {
  readonly metadata: Pick<StoredPolicy["metadata"], "name" | "namespace" | "uid" | "creationTimestamp">;
}

export function identityOf(policy: StoredPolicy): PolicyIdentity {
  const { name, namespace, uid, creationTimestamp } = policy.metadata;
  return {
    metadata: {
      ...(name === undefined ? {} : { name }),
      ...(namespace === undefined ? {} : { namespace }),
      ...(uid === undefined ? {} : { uid }),
      ...(creationTimestamp === undefined ? {} : { creationTimestamp }),
    },
  };
}

export function policyKey(policy: { metadata: { name?: string; namespace?: string } }): string {
  return `${policy.metadata.namespace ?? ""}/${policy.metadata.name ?? ""}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function creationMillis(policy: PolicyIdentity): number {
  const value = policy.metadata.creationTimestamp;
  if (value === undefined) return Number.MAX_SAFE_INTEGER;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}
