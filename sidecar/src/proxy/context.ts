import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { ForwardReason, NotStoredReason, UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import type { CacheEntry } from "../http-cache/entry.js";
import type { LearnedVary } from "../http-cache/learned-vary.js";
import type { CompiledPolicy } from "../routing/compile-policy.js";
import type { FillLeases } from "../store/fill-lease.js";
import type { CacheStore } from "../store/types.js";
import type { SidecarMetrics } from "../telemetry/metrics.js";
import type { ObservedRequest, RequestObserver } from "../telemetry/request-observer.js";
import type { Coalescer } from "./coalescer.js";
import type { EntryReader } from "./entry-reader.js";
import type { Invalidator } from "./invalidator.js";
import type { Upstream } from "./upstream.js";

/** What one cache fill produced, handed to the leader and every waiter. */
export type FillResult =
  | {
      readonly kind: "entry";
      readonly entry: CacheEntry;
      readonly stored: boolean;
      readonly reason?: NotStoredReason;
      readonly fwd: ForwardReason;
      /** The upstream's status when it differs from the entry's: 304 for a revalidated entry. */
      readonly fwdStatus?: number;
      /** Fetched and stored by another pod that held the key's lease (cross-pod.ts). */
      readonly peer?: true;
    }
  | { readonly kind: "error"; readonly reason: UpstreamErrorReason }
  /** Not shareable (e.g. Set-Cookie, over maxBodyBytes): each waiter fetches for itself. */
  | { readonly kind: "pass" }
  /**
   * The store's fence refused the answer: it predates another pod's write. Waiters that arrived before
   * the fill began look again; the others may take `answer`, not stored (cache-path.ts).
   */
  | { readonly kind: "superseded"; readonly answer: Exclude<FillResult, { readonly kind: "superseded" }> };

/** Everything the data path needs, built once by startSidecar. The policy is read per request. */
export interface ProxyContext {
  policy(): CompiledPolicy;
  readonly store: CacheStore;
  readonly upstream: Upstream;
  readonly metrics: SidecarMetrics;
  readonly observer: RequestObserver;
  readonly log: Logger;
  readonly now: () => number;
  readonly coalescer: Coalescer<FillResult>;
  readonly invalidator: Invalidator;
  readonly entries: EntryReader;
  /** The fields each route's responses vary on: fills send them from the start (ADR 0013). */
  readonly learnedVary: LearnedVary;
  /** Cross-pod fill leases, when the store is Redis (ADR 0019); absent: fills coalesce per pod only. */
  readonly leases?: FillLeases;
}

/**
 * One client request on its way through the proxy, built once by the handler and handed down the path
 * (pass-through, write path, shadow, cache path, respond): the shared context, the request and its
 * response, the policy as read once for it, and when it arrived. Per-request state travels here or in
 * arguments, never as writes onto the shared ProxyContext. Telemetry reads it as an ObservedRequest.
 */
export interface Exchange extends ObservedRequest {
  readonly ctx: ProxyContext;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly policy: CompiledPolicy;
  readonly started: number;
}
