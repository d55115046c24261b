import type { CacheEntry } from "../http-cache/entry.js";
import type { Headers } from "../http-cache/headers.js";
import { varyMatches } from "../http-cache/vary.js";
import type { CompiledPolicy, CompiledRoute } from "../routing/compile-policy.js";

/** A read on a cached route, with everything derived from it once. */
export interface CacheableRequest {
  readonly policy: CompiledPolicy;
  readonly route: CompiledRoute;
  /** The logical key (Shadow mode prefixes it so its entries are never served in Enforce). */
  readonly key: string;
  /** Route tags filled from params, plus the path tag. */
  readonly tags: readonly string[];
  /** Origin-form target of the fill: normalized path and the declared query in canonical order. */
  readonly fillPath: string;
  /** The fill's headers before Vary adds any (`keys/fill-request.ts`); built on first call. */
  readonly fillHeaders: () => Record<string, string>;
  /** The request as a fill forwarding every field would send it: Vary is matched against it. */
  readonly varyHeaders: () => Headers;
  /** spec.identity header names: a varied one enters a secondary key as a hash only. */
  readonly identityHeaders: readonly string[];
  readonly requestAuthorized: boolean;
  /** performance.now() when the request arrived. */
  readonly started: number;
}

/** Whether `c` may be answered by an entry stored with these Vary values (the view built only if any). */
export function matchesVary(vary: CacheEntry["vary"], c: Pick<CacheableRequest, "varyHeaders">): boolean {
  return vary.length === 0 || varyMatches(vary, c.varyHeaders());
}
