import type { Pool } from "pg";
import type { RowBatch } from "./generate.js";

/**
 * The narrow database interface the demo API uses, with two implementations: embedded PGlite
 * (default; single-threaded WASM Postgres in this process) and a PostgreSQL server through `pg`.
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly kind: "pglite" | "postgres";
  exec(sql: string): Promise<void>;
  /** Runs fn in one transaction (one connection), committing on success and rolling back on error. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Inserts a batch with one statement: `INSERT … SELECT * FROM unnest($1::type[], …)`. */
export async function insertBatch(db: Queryable, batch: RowBatch): Promise<void> {
  const names = batch.columns.map(([name]) => name).join(", ");
  const arrays = batch.columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ");
  const params = batch.columns.map((_, i) => batch.rows.map((row) => row[i]));
  await db.query(`INSERT INTO ${batch.table} (${names}) SELECT * FROM unnest(${arrays})`, params);
}

export async function openPglite(options: {
  loadDataDir?: Blob;
}): Promise<Database & { dump(): Promise<Blob> }> {
  const { PGlite } = await import("@electric-sql/pglite");
  const pg = await PGlite.create({
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    relaxedDurability: true,
  });
  const wrap = (q: { query: typeof pg.query }): Queryable => ({
    query: async <T>(sql: string, params?: readonly unknown[]) =>
      (await q.query<T>(sql, params as unknown[] | undefined)).rows,
  });
  return {
    kind: "pglite",
    ...wrap(pg),
    exec: async (sql) => {
      await pg.exec(sql);
    },
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    close: () => pg.close(),
    dump: () => pg.dumpDataDir("none"),
  };
}

export async function openPostgres(url: string): Promise<Database> {
  const { default: pg } = await import("pg");
  // Timestamps stay strings: the demo API never converts between time zones.
  pg.types.setTypeParser(1114, (value) => value);
  pg.types.setTypeParser(1082, (value) => value);
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const wrap = (q: { query: Pool["query"] }): Queryable => ({
    query: async <T>(sql: string, params?: readonly unknown[]) =>
      (await q.query(sql, params as unknown[] | undefined)).rows as T[],
  });
  return {
    kind: "postgres",
    ...wrap(pool),
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(wrap(client as unknown as Pool));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
