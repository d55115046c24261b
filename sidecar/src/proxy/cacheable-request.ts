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
  readonly fillHeaders: Record<string, string>;
  readonly requestAuthorized: boolean;
  /** performance.now() when the request arrived. */
  readonly started: number;
}
