import type { Database, Queryable } from "./database.js";

/**
 * Counts the SQL statements the demo API sends to its database and the time they take (issue #16:
 * how much database work a cache saves). A decorator over `Database`: every `query` and `exec`,
 * inside transactions too, counts one statement. The counters only grow; readers take differences.
 * Served at `GET /demo/db-stats` (routes.ts), which does no query itself.
 */
export interface StatementStats {
  /** SQL statements sent (query and exec calls, transactions' inner statements included). */
  readonly statements: number;
  /** Wall time spent awaiting them, summed (ms); with one embedded Postgres, its busy time. */
  readonly queryMillis: number;
  /** HTTP requests the API answered (db-stats requests excluded). */
  readonly requests: number;
}

export interface CountingDatabase extends Database {
  stats(): StatementStats;
  /** The server calls this once per answered request. */
  countRequest(): void;
}

export function countStatements(db: Database, now: () => number = () => performance.now()): CountingDatabase {
  let statements = 0;
  let queryMillis = 0;
  let requests = 0;
  const timed = async <T>(run: () => Promise<T>): Promise<T> => {
    statements++;
    const started = now();
    try {
      return await run();
    } finally {
      queryMillis += now() - started;
    }
  };
  const wrap = (q: Queryable): Queryable => ({
    query: <T>(sql: string, params?: readonly unknown[]) => timed(() => q.query<T>(sql, params)),
  });
  return {
    kind: db.kind,
    ...wrap(db),
    exec: (sql) => timed(() => db.exec(sql)),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
    stats: () => ({ statements, queryMillis, requests }),
    countRequest: () => {
      requests++;
    },
  };
}
