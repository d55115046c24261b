import type { Logger } from "pino";
import type {
  CacheOutcome,
  ForwardReason,
  NotStoredReason,
  UpstreamErrorReason,
} from "../http-cache/cache-outcome.js";
import type { CacheEntry } from "../http-cache/entry.js";
import type { LearnedVary } from "../http-cache/learned-vary.js";
import type { CompiledPolicy } from "../routing/compile-policy.js";
import type { FillLeases } from "../store/fill-lease.js";
import type { CacheStore } from "../store/types.js";
import type { SidecarMetrics } from "../telemetry/metrics.js";
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
  | { readonly kind: "pass" };

/** One finished request, reported once (metrics, stats, debug log). */
export interface RequestRecord {
  readonly policy: string;
  readonly route: string;
  readonly method: string;
  readonly outcome: CacheOutcome;
  readonly seconds: number;
  readonly status: number;
  readonly path: string;
}

export interface RequestObserver {
  request(record: RequestRecord): void;
  upstream(policy: string, route: string, seconds: number, error?: UpstreamErrorReason): void;
  coalesced(policy: string, route: string): void;
  stored(policy: string, route: string): void;
}

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
