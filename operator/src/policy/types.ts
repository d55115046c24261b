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

export function policyKey(policy: { metadata: { name?: string; namespace?: string } }): string {
  return `${policy.metadata.namespace ?? ""}/${policy.metadata.name ?? ""}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function creationMillis(policy: StoredPolicy): number {
  const value = policy.metadata.creationTimestamp;
  if (value === undefined) return Number.MAX_SAFE_INTEGER;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}
