import type { ForwardReason } from "../http-cache/cache-outcome.js";
import type { CacheEntry } from "../http-cache/entry.js";
import type { CacheableRequest } from "./cacheable-request.js";
import type { ProxyContext } from "./context.js";
import type { FlightSettlement } from "./fill-settle.js";

/** How a fill runs (fill.ts). */
export interface FillOptions {
  /** Lead a coalesced flight (default), or fetch alone (a waiter whose leader could not share). */
  readonly coalesce?: boolean;
  /** The stored response being replaced: with a validator, the fill is conditional (revalidation). */
  readonly stale?: CacheEntry;
  /** Fields a stored response of this key varies on: the fill sends the request's values of them. */
  readonly varied?: readonly string[];
  /** A forced refresh (warming): a fresh stored entry is no reason not to ask the upstream. */
  readonly refresh?: boolean;
}

/**
 * One fill this pod leads, built once per fill and handed to its steps (fill.ts, fill-revalidate.ts,
 * fill-store.ts): the shared context, the request it fills, why it was forwarded, how it runs, and
 * the flight its answer settles.
 */
export interface FillRun {
  readonly ctx: ProxyContext;
  readonly c: CacheableRequest;
  readonly fwd: ForwardReason;
  readonly options: FillOptions;
  readonly settle: FlightSettlement;
}
