import { CACHEPOLICY, POLICY_LABEL } from "../constants.js";

/**
 * Which CachePolicy an object the operator manages (its ConfigMap, Role, RoleBinding) belongs to, as a
 * work-queue key `<namespace>/<name>`. The controller owner reference decides (it names the policy
 * and survives a relabel); the `apicache.io/policy` label is the fallback when someone stripped the
 * reference. Undefined when neither names a policy. Pure.
 */
export interface OwnedMetadata {
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly {
    readonly apiVersion: string;
    readonly kind: string;
    readonly name: string;
    readonly controller?: boolean;
  }[];
}

const POLICY_API_GROUP = `${CACHEPOLICY.group}/`;

export function owningPolicyKey(metadata: OwnedMetadata | undefined): string | undefined {
  const namespace = metadata?.namespace;
  if (!namespace) return undefined;
  const owner = metadata.ownerReferences?.find(
    (ref) =>
      ref.controller === true && ref.kind === "CachePolicy" && ref.apiVersion.startsWith(POLICY_API_GROUP),
  );
  const name = owner?.name || metadata.labels?.[POLICY_LABEL];
  return name ? `${namespace}/${name}` : undefined;
}
