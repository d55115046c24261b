import type { Logger } from "pino";
import {
  type CacheOutcome,
  type CacheOutcomeLabel,
  cacheStatus,
  outcomeLabel,
  type UpstreamErrorReason,
} from "../http-cache/cache-outcome.js";
import { RequestMetrics, type SidecarMetrics } from "./metrics.js";

/**
 * Where every finished request is reported once: the metrics (outcome label), the /stats recorder and,
 * at debug level, one log line carrying the same Cache-Status value the client saw. A leaf: it imports
 * the cache's vocabulary (http-cache) and the metrics, nothing of the proxy, the admin API, the store or
 * warming; those call it, and hand it what it writes to (`RequestStats`).
 */

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
  /** An upstream request already observed failed afterwards (its answer could not be relayed). */
  upstreamError(policy: string, route: string, error: UpstreamErrorReason): void;
  coalesced(policy: string, route: string): void;
  stored(policy: string, route: string): void;
}

/** The per-route counters behind GET /stats (admin/stats-recorder.ts's StatsRecorder is one). */
export interface RequestStats {
  request(route: string, outcome: CacheOutcomeLabel, seconds: number, reason?: string): void;
  stored(route: string): void;
}

/**
 * A request being answered, as telemetry reads it: whose context carries the observer, which policy
 * answered it, and when it arrived. The proxy's per-request Exchange is one.
 */
export interface ObservedRequest {
  readonly ctx: { readonly observer: RequestObserver };
  readonly req: { readonly method?: string | undefined; readonly url?: string | undefined };
  readonly policy: { readonly label: string };
  /** performance.now() when the request arrived. */
  readonly started: number;
}

/** Reports a finished request: its route label, the status the client got and the cache's outcome. */
export function report(request: ObservedRequest, route: string, status: number, outcome: CacheOutcome): void {
  request.ctx.observer.request({
    policy: request.policy.label,
    route,
    method: request.req.method ?? "GET",
    outcome,
    seconds: (performance.now() - request.started) / 1000,
    status,
    path: request.req.url ?? "/",
  });
}

export function createRequestObserver(
  metrics: SidecarMetrics,
  stats: RequestStats,
  log: Logger,
): RequestObserver {
  const requests = new RequestMetrics(metrics);
  return {
    request(record: RequestRecord) {
      const outcome = outcomeLabel(record.outcome);
      requests.record(record, outcome);
      const o = record.outcome;
      const reason = o.kind === "uncacheable" || o.kind === "bypass" ? o.reason : undefined;
      stats.request(record.route, outcome, record.seconds, reason);
      if (log.isLevelEnabled("debug")) logRequest(log, record, outcome);
    },
    upstream(policy: string, route: string, seconds: number, error?: UpstreamErrorReason) {
      metrics.upstreamDuration.labels(policy, route).observe(seconds);
      if (error !== undefined) metrics.upstreamErrors.labels(policy, route, error).inc();
    },
    upstreamError(policy: string, route: string, error: UpstreamErrorReason) {
      metrics.upstreamErrors.labels(policy, route, error).inc();
    },
    coalesced(policy: string, route: string) {
      metrics.coalesced.labels(policy, route).inc();
    },
    stored(_policy: string, route: string) {
      stats.stored(route);
    },
  };
}

function logRequest(log: Logger, record: RequestRecord, outcome: CacheOutcomeLabel): void {
  log.debug(
    {
      policy: record.policy,
      route: record.route,
      method: record.method,
      path: record.path,
      status: record.status,
      outcome,
      cacheStatus: cacheStatus(record.outcome),
      ms: Math.round(record.seconds * 1e6) / 1e3,
    },
    "request",
  );
}
