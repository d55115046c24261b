/**
 * Whether an object as the API server stores it (`cached`, from an informer) already holds every
 * field the operator applies (`desired`): then a server-side apply would change nothing, and is not
 * sent. Objects compare as subsets (the server adds fields: uid, managedFields, other managers'
 * keys); arrays and scalars compare exactly. `apiVersion` and `kind` are skipped: listed objects carry
 * neither. Pure.
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
  return cached === desired;
}
