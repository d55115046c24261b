/**
 * HTTP methods as the cache sees them: one definition for the CachePolicy schema and the sidecar's
 * request classification (plain requests and upgrades alike). Pure.
 */

/** The safe methods a route may cache: GET, and HEAD answered from a cached GET. */
export const CACHEABLE_METHODS = ["GET", "HEAD"] as const;

/**
 * RFC 9110 §9.2.1: the methods defined as safe. CONNECT is not among them (§9.3.6: it opens a tunnel
 * that may carry anything), so it is unsafe like every method not listed here.
 */
export const SAFE_METHODS = [...CACHEABLE_METHODS, "OPTIONS", "TRACE"] as const;

/** The unsafe methods an invalidation rule may name; any other unsafe method invalidates by path. */
export const UNSAFE_METHODS = ["POST", "PUT", "PATCH", "DELETE"] as const;

/** The methods a CachePolicy may name. */
export const HTTP_METHODS = [...CACHEABLE_METHODS, ...UNSAFE_METHODS] as const;

const SAFE: ReadonlySet<string> = new Set(SAFE_METHODS);

/** RFC 9110 §9.2.1: a safe method does not change state, so its success invalidates nothing. */
export function isSafeMethod(method: string): boolean {
  return SAFE.has(method);
}
