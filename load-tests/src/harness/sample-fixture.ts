import type { Sample } from "./stats.js";

/**
 * What each endpoint type sends in the scenarios (load-tests/scenarios), routed by the demo policy
 * (load-tests/policies/demo.yaml). The write is update-profile, the most common one, which the sidecar
 * labels with the user-profile route.
 */
const SENT: Record<Sample["endpoint"], Pick<Sample, "method" | "path">> = {
  slots: { method: "GET", path: "/api/v2/barbers/1/slots?date=2026-12-08" },
  analytics: { method: "GET", path: "/api/v2/analytics/revenue?range=30d" },
  dashboard: { method: "GET", path: "/api/v2/dashboard" },
  profile: { method: "GET", path: "/api/v2/users/1/profile" },
  catalog: { method: "GET", path: "/api/v2/services" },
  write: { method: "PUT", path: "/api/v2/users/1/profile" },
};

/** A measured request for tests: status 200, not failed; sent as `sent`, else as its endpoint's. */
export const sample = (
  endpoint: Sample["endpoint"],
  latencyMs: number,
  cache: Sample["cache"],
  sent: Pick<Sample, "method" | "path"> = SENT[endpoint],
): Sample => ({
  name: endpoint,
  endpoint,
  ...sent,
  status: 200,
  latencyMs,
  cache,
  failed: false,
});
