import type { Fence } from "../store/types.js";
import type { CacheableRequest } from "./cacheable-request.js";
import type { ProxyContext } from "./context.js";

/**
 * The fence around a fill (ADR 0004, ADR 0005): taken before the upstream is asked, checked before the
 * answer is stored. Two guards: this process's invalidation log (`seq`: no invalidation of the key or
 * its tags ran here since the fill started) and the store's fence (the tags' generations: no pod
 * invalidated one of them meanwhile; the store checks it as it writes).
 */
export interface FillGuard {
  /** The invalidator's sequence number when the fill started. */
  readonly seq: number;
  /** The store's fence for the fill's tags, handed to the store's write. */
  readonly fence: Fence;
}

/** Reads the invalidator's sequence, then waits for the fence taken (`fencing`) before the upstream is asked. */
export async function guardFill(ctx: ProxyContext, fencing: Promise<Fence>): Promise<FillGuard> {
  const seq = ctx.invalidator.seq;
  return { seq, fence: await fencing };
}

/**
 * The store's fence for the fill's tags, taken before the upstream is asked: the entry is stored only
 * if no pod invalidated one of them meanwhile. A store that cannot say (Redis unreachable) gives no
 * fence; the store will most likely fail the write too, and if not, it is stored unfenced.
 */
export async function takeFence(ctx: ProxyContext, c: CacheableRequest): Promise<Fence> {
  try {
    return await ctx.store.fence(c.tags);
  } catch (error) {
    ctx.log.debug(
      { err: error, key: c.key, code: (error as { code?: string }).code },
      "store fence failed; the fill will not be stored in Redis",
    );
    return { tags: [...c.tags], takenAt: performance.now(), unavailable: true };
  }
}

/** Whether an invalidation of the fill's key or tags ran in this process since it started. */
export function invalidatedDuring(ctx: ProxyContext, c: CacheableRequest, guard: FillGuard): boolean {
  return ctx.invalidator.invalidatedSince(guard.seq, c.key, c.tags);
}
