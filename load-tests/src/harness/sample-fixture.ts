import type { Sample } from "./stats.js";

/** A measured request for tests: status 200, not failed. */
export const sample = (endpoint: Sample["endpoint"], latencyMs: number, cache: Sample["cache"]): Sample => ({
  name: endpoint,
  endpoint,
  status: 200,
  latencyMs,
  cache,
  failed: false,
});
