import type { StatementStats } from "../demo-api/statement-counter.js";

/**
 * The demo API's statement counters (GET /demo/db-stats), read before and after a measured window,
 * and the database work of that window: statements per second and per request, query time.
 */
export interface DbWork {
  readonly statements: number;
  readonly queryMillis: number;
  /** Requests the demo API itself answered in the window (those the sidecar served from cache are not). */
  readonly apiRequests: number;
  readonly seconds: number;
  readonly statementsPerSecond: number;
  /** Per request the client sent (the load generator's count), so both paths share a denominator. */
  readonly statementsPerRequest: number;
}

export async function readDbStats(apiUrl: string): Promise<StatementStats> {
  const response = await fetch(`${apiUrl}/demo/db-stats`);
  if (!response.ok) throw new Error(`${apiUrl}/demo/db-stats: HTTP ${response.status}`);
  return (await response.json()) as StatementStats;
}

export function dbWork(
  before: StatementStats,
  after: StatementStats,
  window: { readonly seconds: number; readonly clientRequests: number },
): DbWork {
  const statements = after.statements - before.statements;
  return {
    statements,
    queryMillis: after.queryMillis - before.queryMillis,
    apiRequests: after.requests - before.requests,
    seconds: window.seconds,
    statementsPerSecond: window.seconds > 0 ? statements / window.seconds : Number.NaN,
    statementsPerRequest: window.clientRequests > 0 ? statements / window.clientRequests : Number.NaN,
  };
}

/** (direct - sidecar) / direct of the statements per request, in percent. */
export function statementReduction(direct: DbWork, sidecar: DbWork): number {
  return direct.statementsPerRequest > 0
    ? ((direct.statementsPerRequest - sidecar.statementsPerRequest) / direct.statementsPerRequest) * 100
    : Number.NaN;
}
