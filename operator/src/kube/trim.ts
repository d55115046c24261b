import { createHash } from "node:crypto";
import type { KubernetesObject, V1ObjectMeta } from "@kubernetes/client-node";
import { sameJson } from "../same-json.js";

/**
 * What the informers keep of each object: the operator caches every CachePolicy and every object it
 * owns (thousands of each at scale), so fields it never reads are dropped on the way in, as
 * controller-runtime's cache transforms do. Pure.
 */

/** `kubectl apply`'s copy of the whole object: as large as the object, never read. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * Drops `metadata.managedFields` (server-side apply's bookkeeping, often a fifth of a small object)
 * and the last-applied annotation; everything else stays (CachePolicies, LimitRanges).
 */
export function withoutBookkeeping<T extends KubernetesObject>(object: T): T {
  const metadata = object.metadata;
  if (!metadata || (!metadata.managedFields && metadata.annotations?.[LAST_APPLIED] === undefined)) {
    return object;
  }
  const { managedFields: _dropped, ...kept } = metadata;
  return { ...object, metadata: withoutLastApplied(kept) };
}

function withoutLastApplied(metadata: V1ObjectMeta): V1ObjectMeta {
  if (metadata.annotations?.[LAST_APPLIED] === undefined) return metadata;
  const { [LAST_APPLIED]: _dropped, ...annotations } = metadata.annotations;
  const { annotations: _all, ...rest } = metadata;
  return Object.keys(annotations).length > 0 ? { ...rest, annotations } : rest;
}

/** Strings at least this long are kept as their digest in owned objects' content. */
export const DIGEST_MIN_LENGTH = 256;
export const DIGEST_PREFIX = "\u0000apicache-sha256:";

/** How a long string is cached: a marker no stored value carries (it starts with a NUL). */
export function digestOf(text: string): string {
  return DIGEST_PREFIX + createHash("sha256").update(text).digest("base64");
}

/**
 * An object the operator owns (ConfigMap, Role, RoleBinding), as the reconciler needs it: identity,
 * labels, annotations and owner references (ownership, NameTaken), and its content with every long
 * string replaced by `digestOf` — a rendered sidecar configuration is kilobytes of YAML the operator
 * only ever compares with what it would write (holds-desired.ts). Timestamps, managedFields,
 * finalizers and the rest of the server's metadata are dropped.
 */
export function trimOwned<T extends KubernetesObject>(object: T): T {
  const m = object.metadata ?? {};
  const metadata: V1ObjectMeta = withoutLastApplied({
    ...(m.name !== undefined ? { name: m.name } : {}),
    ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
    ...(m.uid !== undefined ? { uid: m.uid } : {}),
    ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
    ...(m.labels ? { labels: m.labels } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
    ...(m.ownerReferences ? { ownerReferences: m.ownerReferences } : {}),
    ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
  });
  const content: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key !== "metadata" && key !== "apiVersion" && key !== "kind") content[key] = digestStrings(value);
  }
  return { ...content, metadata } as T;
}

function digestStrings(value: unknown): unknown {
  if (typeof value === "string") return value.length >= DIGEST_MIN_LENGTH ? digestOf(value) : value;
  if (Array.isArray(value)) return value.map(digestStrings);
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = digestStrings(item);
    return out;
  }
  return value;
}

/**
 * A CachePolicy as the cache keeps it: `kept` (already without bookkeeping), holding the cached
 * object's `spec` instead of its own when both are the same generation of the same policy and the two
 * specs are equal. A status write then does not leave a second copy of every spec string per policy:
 * the parsed policy shares the cached spec's strings (crds' copyJson) and keeps them alive (ADR 0017,
 * section 6). Compared, not assumed from the generation: the API server fills new CRD defaults in on
 * read without a new generation, and an etcd restore can bring a generation back with another spec.
 */
export function policyAsCached<T extends KubernetesObject & { spec?: unknown }>(
  kept: T,
  cached: T | undefined,
): T {
  const { uid, generation } = kept.metadata ?? {};
  if (
    cached === undefined ||
    generation === undefined ||
    cached.metadata?.uid !== uid ||
    cached.metadata?.generation !== generation ||
    cached.spec === kept.spec ||
    !sameJson(cached.spec, kept.spec)
  ) {
    return kept;
  }
  return { ...kept, spec: cached.spec };
}
