import type { CacheEntry } from "../http-cache/entry.js";
import { varyMatches, varyValues } from "../http-cache/vary.js";
import { variantKey } from "../keys/cache-key.js";
import type { CacheableRequest } from "./cacheable-request.js";
import type { ProxyContext } from "./context.js";

/**
 * Reads a request's entry, honouring Vary (RFC 9111 §4.1) with secondary keys. The entry under the
 * key says which fields its response varies on; when the request's values of them differ, its own
 * variant is read from the variant's key. `varied` lists those fields (the fill sends them).
 * `entry` is the matching variant, or — when there is none — the entry under the key (a vary miss).
 * `shared`: read what the shared store holds, not this pod's recent copy (GetOptions.shared).
 */
export async function readVariant(
  ctx: Pick<ProxyContext, "entries">,
  c: CacheableRequest,
  shared = false,
): Promise<{
  readonly entry: CacheEntry | undefined;
  /** The store did not answer a read: "no entry" only means "unknown". */
  readonly failed: boolean;
  readonly varied: readonly string[];
}> {
  const primary = await ctx.entries.lookup(c.key, c.tags, shared);
  const entry = primary.entry;
  if (entry === undefined || entry.vary.length === 0) return { entry, failed: primary.failed, varied: [] };
  const varied = entry.vary.map(([name]) => name);
  if (varyMatches(entry.vary, c.varyHeaders())) return { entry, failed: false, varied };
  const key = variantKey(c.key, varyValues(varied, c.varyHeaders()), c.identityHeaders);
  const variant = await ctx.entries.lookup(key, c.tags, shared);
  return { entry: variant.entry ?? entry, failed: variant.failed, varied };
}
