/**
 * The PostgreSQL registry's schema, as numbered migrations applied in order at start (see
 * `migrate` in postgres.ts). A migration, once released, never changes: a new one is added.
 * Tables carry a `cr_` prefix so the registry can share a database with other applications.
 * `migrate` applies them under an advisory lock, so concurrent starts wait for each other.
 */
import type pg from "pg";
import { CanonError } from "../core/errors.js";

/** pg_advisory_xact_lock key for migrations: "canon-re" in ASCII, fixed forever. */
const MIGRATION_LOCK = 0x63616e6f6e2d7265n;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "runs, items, content-addressed objects",
    sql: `
CREATE TABLE cr_runs (
  seq BIGSERIAL PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  registered_at TEXT NOT NULL,
  item_id TEXT,
  item_version INTEGER
);
CREATE TABLE cr_items (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE cr_item_versions (
  item_id TEXT NOT NULL REFERENCES cr_items(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (item_id, version)
);
-- An object row is written in the same transaction as its last chunk: present means complete.
CREATE TABLE cr_objects (
  sha256 TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  chunks INTEGER NOT NULL
);
CREATE TABLE cr_object_chunks (
  sha256 TEXT NOT NULL,
  n INTEGER NOT NULL,
  bytes BYTEA NOT NULL,
  PRIMARY KEY (sha256, n)
);
-- A run's files (outside volatile/) and the store objects it pins, by content hash.
CREATE TABLE cr_run_files (
  run_id TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (run_id, path)
);
CREATE TABLE cr_run_objects (
  run_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (run_id, sha256)
);
`,
  },
  {
    version: 2,
    name: "finished queue jobs",
    sql: `
-- A queue job's result once its run is published: a retried job finds it here (cr_jobs is
-- durable; Redis may keep nothing on disk) and, when the run still verifies, does nothing.
CREATE TABLE cr_jobs (
  job_id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  result TEXT NOT NULL
);
`,
  },
  {
    version: 3,
    name: "the item versions each run was produced from",
    sql: `
-- Issue 21 item 10: an item run equal to an earlier run (ad hoc, or another item's) is the same
-- run; which item versions produced it is recorded here, outside the run's fingerprint.
CREATE TABLE cr_run_items (
  run_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  item_version INTEGER NOT NULL,
  registered_at TEXT NOT NULL,
  PRIMARY KEY (run_id, item_id, item_version)
);
`,
  },
];

/** Applies every migration the database lacks, in order, holding the advisory lock throughout. */
export async function migrate(client: pg.PoolClient): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK.toString()]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS cr_migrations (
         version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const applied = new Set(
      (await client.query<{ version: number }>("SELECT version FROM cr_migrations")).rows.map(
        (r) => r.version,
      ),
    );
    const known = new Set(MIGRATIONS.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0)
      throw new CanonError(
        "E_REGISTRY_URL",
        `the registry's schema is at version ${Math.max(...unknown)}, newer than this canon-reason knows: upgrade canon-reason`,
        { exitCode: 2, where: { field: "--registry" } },
      );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query("INSERT INTO cr_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
