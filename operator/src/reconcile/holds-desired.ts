import { DIGEST_MIN_LENGTH, digestOf } from "../kube/trim.js";

/**
 * Whether an object as the API server stores it (`cached`, from an informer) already holds every
 * field the operator applies (`desired`): then a server-side apply would change nothing, and is not
 * sent. Objects compare as subsets (the server adds fields: uid, managedFields, other managers'
 * keys); arrays and scalars compare exactly. `apiVersion` and `kind` are skipped: listed objects carry
 * neither. A long string matches its digest, which is how the owned objects' informers keep them. Pure.
 */
export function holdsDesired(cached: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(cached) &&
      cached.length === desired.length &&
      desired.every((item, i) => holdsDesired(cached[i], item))
    );
  }
  if (desired !== null && typeof desired === "object") {
    if (cached === null || typeof cached !== "object" || Array.isArray(cached)) return false;
    const stored = cached as Record<string, unknown>;
    return Object.entries(desired).every(
      ([key, value]) =>
        key === "apiVersion" || key === "kind" || value === undefined || holdsDesired(stored[key], value),
    );
  }
  if (cached === desired) return true;
  // The informer caches long strings as their digest (kube/trim.ts).
  return typeof desired === "string" && desired.length >= DIGEST_MIN_LENGTH && cached === digestOf(desired);
}
