import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Database, insertBatch, openPglite, openPostgres, type Queryable } from "./database.js";
import { DEFAULT_SEED, generateDataset } from "./generate.js";
import { DATASET_VERSION, INDEX_SQL, SCHEMA_SQL } from "./schema.js";
import type { DatasetSize } from "./sizes.js";

export interface OpenOptions {
  readonly size: DatasetSize;
  /** PostgreSQL server URL; absent: embedded PGlite. */
  readonly databaseUrl?: string;
  /** Where PGlite snapshots are kept between runs (per user, outside the repository). */
  readonly cacheDir: string;
  /** Progress messages (generation takes ~20 s at the default size). */
  readonly progress: (message: string, fields?: Record<string, unknown>) => void;
}

export interface OpenedDatabase {
  readonly db: Database;
  /** How the data got there: loaded from the snapshot cache, generated now, or already in the server. */
  readonly source: "snapshot" | "generated" | "existing";
  readonly millis: number;
}

/** The snapshot file for a size: bumping DATASET_VERSION retires old snapshots. */
export function snapshotPath(cacheDir: string, size: DatasetSize): string {
  return join(cacheDir, `demo-db-${size.name}-v${DATASET_VERSION}.tar`);
}

/**
 * Opens the demo database with its dataset. PGlite: loads the cached snapshot into an in-memory
 * instance (writes during a run never touch the snapshot), or generates the dataset and saves a
 * snapshot for next time. PostgreSQL: (re)creates the schema unless it already holds this version and
 * size (writes of earlier runs persist there).
 */
export async function openDemoDatabase(options: OpenOptions): Promise<OpenedDatabase> {
  const started = performance.now();
  const done = (db: Database, source: OpenedDatabase["source"]) => ({
    db,
    source,
    millis: Math.round(performance.now() - started),
  });
  if (options.databaseUrl) {
    const db = await openPostgres(options.databaseUrl);
    return done(db, await seedPostgresOnce(db, options));
  }
  const file = snapshotPath(options.cacheDir, options.size);
  if (exists(file)) {
    options.progress("loading the demo dataset snapshot", { file });
    const db = await openPglite({ loadDataDir: new Blob([readFileSync(file)]) });
    if (await hasDataset(db, options.size)) return done(db, "snapshot");
    await db.close();
  }
  options.progress("generating the demo dataset (once; cached for later runs)", {
    size: options.size.name,
    file,
  });
  const db = await openPglite({});
  await seed(db, options);
  const snapshot = Buffer.from(await (await db.dump()).arrayBuffer());
  mkdirSync(options.cacheDir, { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, snapshot);
  renameSync(partial, file);
  return done(db, "generated");
}

/**
 * Creates the schema and dataset in PostgreSQL unless it holds this version and size. Replicas that
 * start together share the server: under a transaction-scoped advisory lock one of them seeds (in one
 * transaction, so nobody sees half a dataset) and the others wait, then find it.
 */
async function seedPostgresOnce(db: Database, options: OpenOptions): Promise<"existing" | "generated"> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [SEED_LOCK_KEY]);
    if (await hasDataset(tx, options.size)) return "existing";
    options.progress("creating the demo schema and dataset in PostgreSQL", { size: options.size.name });
    const exec = async (sql: string) => {
      await tx.query(sql);
    };
    await exec("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;");
    await seed({ query: tx.query, exec }, options);
    return "generated";
  });
}

/** pg_advisory_xact_lock key of the demo's seeding ("apicache" in ASCII, as a bigint). */
const SEED_LOCK_KEY = "7021227694627186789";

function exists(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

async function hasDataset(db: Queryable, size: DatasetSize): Promise<boolean> {
  // Look before reading: in a transaction, a query that fails aborts the transaction.
  const [table] = await db.query<{ present: boolean }>(
    "SELECT to_regclass('demo_meta') IS NOT NULL AS present",
  );
  if (table?.present !== true) return false;
  try {
    const rows = await db.query<{ key: string; value: string }>("SELECT key, value FROM demo_meta");
    const meta = Object.fromEntries(rows.map((row) => [row.key, row.value]));
    return meta.version === String(DATASET_VERSION) && meta.size === size.name && meta.complete === "true";
  } catch {
    return false;
  }
}

async function seed(db: Queryable & Pick<Database, "exec">, options: OpenOptions): Promise<void> {
  await db.exec(SCHEMA_SQL);
  let rows = 0;
  let lastReport = performance.now();
  for (const batch of generateDataset(options.size, DEFAULT_SEED)) {
    await insertBatch(db, batch);
    rows += batch.rows.length;
    if (performance.now() - lastReport > 5000) {
      options.progress("still generating", { rows, table: batch.table });
      lastReport = performance.now();
    }
  }
  await db.exec(INDEX_SQL);
  await db.query(
    "INSERT INTO demo_meta (key, value) VALUES ('version', $1), ('size', $2), ('seed', $3), ('complete', 'true')",
    [String(DATASET_VERSION), options.size.name, String(DEFAULT_SEED)],
  );
}
