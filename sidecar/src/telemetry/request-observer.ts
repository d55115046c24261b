import type { Logger } from "pino";
import type { StatsRecorder } from "../admin/stats-recorder.js";
import type { UpstreamErrorReason } from "../http-cache/cache-outcome.js";
import { cacheStatus, outcomeLabel } from "../http-cache/cache-outcome.js";
import type { RequestObserver, RequestRecord } from "../proxy/context.js";
import { RequestMetrics, type SidecarMetrics } from "./metrics.js";

/**
 * Where every finished request is reported once: the metrics (outcome label), the /stats recorder and,
 * at debug level, one log line carrying the same Cache-Status value the client saw.
 */
export function createRequestObserver(
  metrics: SidecarMetrics,
  stats: StatsRecorder,
  log: Logger,
): RequestObserver {
  const requests = new RequestMetrics(metrics);
  return {
    request(record: RequestRecord) {
      const outcome = outcomeLabel(record.outcome);
      requests.record(record.policy, record.route, record.method, outcome, record.seconds);
      const o = record.outcome;
      const reason = o.kind === "uncacheable" || o.kind === "bypass" ? o.reason : undefined;
      stats.request(record.route, outcome, record.seconds, reason);
      if (log.isLevelEnabled("debug")) {
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
    },
    upstream(policy: string, route: string, seconds: number, error?: UpstreamErrorReason) {
      metrics.upstreamDuration.labels(policy, route).observe(seconds);
      if (error !== undefined) metrics.upstreamErrors.labels(policy, route, error).inc();
    },
    coalesced(policy: string, route: string) {
      metrics.coalesced.labels(policy, route).inc();
    },
    stored(_policy: string, route: string) {
      stats.stored(route);
    },
  };
}
