/**
 * The shared registry on PostgreSQL (the `pg` client): the run index and items, as in SQLite,
 * plus a content-addressed object table holding every published run's files and the store
 * objects it pins (corpus snapshot, index). Any machine that reaches the database can then
 * read a run it did not make: `materializeRun` writes it into a local cache directory,
 * re-hashing every object on the way, and the one run reader (io/runs/run-reader.ts) opens it there.
 *
 * Objects are stored in bounded pieces (1 MiB chunks); an object's row is inserted in the same
 * transaction as its chunks, so a present row means a complete object. Every write is
 * idempotent (ON CONFLICT DO NOTHING), so machines publishing the same run at once agree.
 * Migrations are applied at start under an advisory lock (concurrent starts wait for each other).
 * A server restart costs the connections open at the time, never the process: the pool drops
 * them (idle or checked out) and connects anew; what was asked meanwhile is E_REGISTRY_UNAVAILABLE.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { RUN_FILES } from "../core/artifact/files.js";
import { pinnedObjects } from "../core/artifact/names.js";
import { ID_PATTERN, sha256Hex } from "../core/canonical.js";
import { CanonError, IntegrityError } from "../core/errors.js";
import type { ProblemSpec } from "../core/models/spec.js";
import { openRun, requireParts } from "../io/runs/run-reader.js";
import { writeRun } from "../io/runs/run-writer.js";
import { prepareArtifactsDir } from "../io/store/artifacts.js";
import { DiskStore } from "../io/store/content-store.js";
import { MIGRATIONS } from "./migrations.js";
import { redactUrl, registryError } from "./pg-errors.js";
import { afterCursor, type ItemRow, pageOf, type RunRow, toItem, toRun } from "./rows.js";
import type { Item, LocalRun, Page, PageRequest, Registry, RunEntry, RunItemSource } from "./run-registry.js";

/** Largest piece of an object in one row: bounded memory per row on both ends. */
export const CHUNK_BYTES = 1024 * 1024;
/** pg_advisory_xact_lock key for migrations: "canon-re" in ASCII, fixed forever. */
const MIGRATION_LOCK = 0x63616e6f6e2d7265n;
/** A run's file path as the writer makes them: plain names, no dot segments, no volatile/. */
const RUN_PATH = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\/){0,7}[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;

const ITEM_SELECT = `SELECT i.seq::text AS seq, i.id, i.created_at, v.version, v.name, v.spec, v.updated_at
  FROM cr_items i JOIN cr_item_versions v ON v.item_id = i.id`;

type Queryable = Pick<pg.PoolClient, "query">;

/** Applies every migration the database lacks, in order, holding the advisory lock throughout. */
async function migrate(client: pg.PoolClient): Promise<void> {
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

/** Bytes of chunk data per INSERT statement: bounded memory for a large snapshot or index. */
const BATCH_BYTES = 8 * CHUNK_BYTES;

/**
 * Writes objects the registry lacks, inside the caller's transaction: their pieces in multi-row
 * inserts of at most BATCH_BYTES, then their object rows (present means complete). Rows go in
 * one global order (hash, then piece), so concurrent writers of overlapping objects queue on
 * the same keys in the same order instead of deadlocking.
 */
async function writeObjects(client: Queryable, objects: ReadonlyMap<string, Uint8Array>): Promise<void> {
  if (objects.size === 0) return;
  const sorted = [...objects].sort(([a], [b]) => (a < b ? -1 : 1));
  let batch: { hashes: string[]; ns: number[]; pieces: Buffer[]; bytes: number } = {
    hashes: [],
    ns: [],
    pieces: [],
    bytes: 0,
  };
  const flush = async () => {
    if (batch.hashes.length === 0) return;
    await client.query(
      `INSERT INTO cr_object_chunks (sha256, n, bytes)
       SELECT * FROM unnest($1::text[], $2::int[], $3::bytea[]) ON CONFLICT DO NOTHING`,
      [batch.hashes, batch.ns, batch.pieces],
    );
    batch = { hashes: [], ns: [], pieces: [], bytes: 0 };
  };
  for (const [hash, bytes] of sorted)
    for (let n = 0; n * CHUNK_BYTES < bytes.length; n++) {
      const piece = Buffer.from(
        bytes.buffer,
        bytes.byteOffset + n * CHUNK_BYTES,
        Math.min(CHUNK_BYTES, bytes.length - n * CHUNK_BYTES),
      );
      if (batch.bytes + piece.length > BATCH_BYTES) await flush();
      batch.hashes.push(hash);
      batch.ns.push(n);
      batch.pieces.push(piece);
      batch.bytes += piece.length;
    }
  await flush();
  await client.query(
    `INSERT INTO cr_objects (sha256, size, chunks)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[]) ON CONFLICT DO NOTHING`,
    [
      sorted.map(([hash]) => hash),
      sorted.map(([, bytes]) => bytes.length),
      sorted.map(([, bytes]) => Math.ceil(bytes.length / CHUNK_BYTES)),
    ],
  );
}

export interface PgRegistryOptions {
  now?: () => Date;
  /** Connections kept open at most (default 4). */
  maxConnections?: number;
}

export class PgRegistry implements Registry {
  readonly shared = true;

  /**
   * Objects this process has seen committed in the registry. Objects are content-addressed and
   * never deleted (removeRun drops an index entry only), so a hash once present stays present:
   * a worker publishing its hundredth run over one snapshot neither re-reads nor re-asks about it.
   */
  private readonly present = new Set<string>();
  private static readonly PRESENT_KEPT = 100_000;

  private constructor(
    private readonly pool: pg.Pool,
    /** The URL with any password removed, for messages. */
    readonly where: string,
    private readonly now: () => Date,
  ) {}

  /** Connects, applies migrations, and returns the registry; an unusable URL or server is a one-line error. */
  static async connect(url: string, options: PgRegistryOptions = {}): Promise<PgRegistry> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection lost (say the server restarted) is dropped by the pool; the next query
    // connects anew. Without a listener the error would end the process.
    pool.on("error", () => undefined);
    const registry = new PgRegistry(pool, redactUrl(url), options.now ?? (() => new Date()));
    try {
      await registry.withClient(migrate);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return registry;
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      throw registryError(error, this.where);
    }
  }

  /**
   * `fn` on one connection of the pool; database failures become registry errors. While the
   * connection is checked out its "error" event is ours to handle (the pool listens only on idle
   * ones): a server that goes away mid-transaction would otherwise end the process. A broken
   * connection is handed back with its error, so the pool discards it and connects anew.
   */
  private async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw registryError(error, this.where);
    }
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
    };
    client.on("error", onError);
    try {
      return await fn(client);
    } catch (error) {
      throw error instanceof CanonError ? error : registryError(error, this.where);
    } finally {
      client.removeListener("error", onError);
      client.release(broken);
    }
  }

  /**
   * Waits until the server answers a query again, for at most `ms`; true when it does. A worker
   * calls it after losing the registry, so that its job is retried once PostgreSQL is back
   * (a restart takes seconds) instead of spending every attempt while it is away.
   */
  async waitUntilAvailable(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await this.pool.query("SELECT 1");
        return true;
      } catch {
        if (Date.now() + delay > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** `fn` inside BEGIN/COMMIT on one connection, rolled back when it throws. */
  private transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      await client.query("BEGIN");
      try {
        const result = await fn(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
    });
  }

  // --- objects -------------------------------------------------------------------------------

  /** Stores `bytes` under their sha256 (idempotent) and returns the hash. */
  async putObject(bytes: Uint8Array): Promise<string> {
    const hash = sha256Hex(bytes);
    const objects = new Map([[hash, bytes]]);
    await this.transaction(async (client) => writeObjects(client, await this.missing(client, objects)));
    return hash;
  }

  /** Remembers hashes known to be committed (bounded: a long-lived worker does not grow without end). */
  private remember(hashes: Iterable<string>): void {
    if (this.present.size > PgRegistry.PRESENT_KEPT) this.present.clear();
    for (const hash of hashes) this.present.add(hash);
  }

  /** Of `hashes`, those the object table lacks: one round trip for the ones not known present. */
  private async lacking(client: Queryable, hashes: Iterable<string>): Promise<Set<string>> {
    const unknown = [...new Set(hashes)].filter((h) => !this.present.has(h));
    if (unknown.length === 0) return new Set();
    const found = await client.query<{ sha256: string }>(
      "SELECT sha256 FROM cr_objects WHERE sha256 = ANY($1::text[])",
      [unknown],
    );
    const have = found.rows.map((r) => r.sha256);
    this.remember(have);
    const lacking = new Set(unknown);
    for (const hash of have) lacking.delete(hash);
    return lacking;
  }

  /** Of `objects` (by hash), those the object table lacks: one round trip. */
  private async missing(client: Queryable, objects: ReadonlyMap<string, Uint8Array>) {
    const present = await client.query<{ sha256: string }>(
      "SELECT sha256 FROM cr_objects WHERE sha256 = ANY($1::text[])",
      [[...objects.keys()]],
    );
    const missing = new Map(objects);
    for (const { sha256 } of present.rows) missing.delete(sha256);
    return missing;
  }

  /** The bytes of an object, re-hashed; null when absent. A piece missing or altered is an IntegrityError. */
  async getObject(hash: string): Promise<Uint8Array | null> {
    return (await this.getObjects([hash])).get(hash) ?? null;
  }

  /**
   * The bytes of several objects (each re-hashed) in one round trip; an absent object is left
   * out of the map. Meant for a run's files: small, so one answer holds them all.
   */
  private async getObjects(hashes: readonly string[]): Promise<Map<string, Uint8Array>> {
    for (const hash of hashes)
      if (!HEX64.test(hash))
        throw new IntegrityError(`registry names a malformed object hash ${JSON.stringify(hash)}`);
    const rows = await this.query<{
      sha256: string;
      size: string;
      chunks: number;
      n: number | null;
      bytes: Buffer | null;
    }>(
      `SELECT o.sha256, o.size::text AS size, o.chunks, c.n, c.bytes
         FROM cr_objects o LEFT JOIN cr_object_chunks c ON c.sha256 = o.sha256
        WHERE o.sha256 = ANY($1::text[]) ORDER BY o.sha256, c.n`,
      [[...new Set(hashes)]],
    );
    const pieces = new Map<
      string,
      { size: string; chunks: number; rows: Array<{ n: number | null; bytes: Buffer | null }> }
    >();
    for (const r of rows) {
      const found = pieces.get(r.sha256) ?? { size: r.size, chunks: r.chunks, rows: [] };
      pieces.set(r.sha256, found);
      // An object of no bytes has no chunk: the LEFT JOIN gives it one row of nulls.
      if (r.n !== null) found.rows.push(r);
    }
    const objects = new Map<string, Uint8Array>();
    for (const [hash, head] of pieces) {
      const corrupt = () =>
        new IntegrityError(`registry object sha256:${hash} is corrupt: its bytes hash differently`, {
          file: this.where,
        });
      if (head.rows.length !== head.chunks || head.rows.some((r, i) => r.n !== i)) throw corrupt();
      const bytes = Buffer.concat(head.rows.map((r) => r.bytes as Buffer));
      if (String(bytes.length) !== head.size || sha256Hex(bytes) !== hash) throw corrupt();
      objects.set(hash, bytes);
    }
    return objects;
  }

  // --- runs ----------------------------------------------------------------------------------

  /**
   * Publishes in a few round trips whatever the number of files: one query finds which objects
   * the registry lacks, and one transaction writes them (multi-row inserts, a bounded number of
   * bytes per statement) together with the run's file list, its pinned objects and, last, its
   * index entry. Every insert is ON CONFLICT DO NOTHING, and rows are written in one global
   * order (by hash, then piece), so publishers of the same run or snapshot at once neither
   * fail nor deadlock: the later one waits for the earlier one's rows and skips them.
   */
  async addRun(entry: Omit<RunEntry, "registered_at">, from?: LocalRun): Promise<RunEntry> {
    const files: Array<[string, string]> = [];
    let pinned: string[] = [];
    const objects = new Map<string, Uint8Array>();
    if (from !== undefined) {
      // Read through the one run reader: exactly the files a verifier would see, volatile/ left out.
      const opened = openRun(from.runDir);
      const { run } = requireParts(opened, ["run"]);
      const store = new DiskStore(from.storeRoot);
      pinned = pinnedObjects(run);
      for (const hash of pinned) {
        const bytes = store.get(hash);
        if (bytes === null)
          throw new CanonError(
            "E_STORE_MISSING",
            `store object sha256:${hash} pinned by the run is missing`,
            {
              exitCode: 3,
              where: { file: store.root },
            },
          );
        objects.set(hash, bytes);
      }
      for (const [path, bytes] of [...opened.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const hash = sha256Hex(bytes);
        objects.set(hash, bytes);
        files.push([path, hash]);
      }
    }
    // Objects first, the index entry last, in one transaction: the index never names a run
    // another machine cannot read.
    const row = await this.transaction(async (client) => {
      if (objects.size > 0) await writeObjects(client, await this.missing(client, objects));
      await client.query(
        `WITH f AS (
           INSERT INTO cr_run_files (run_id, path, sha256)
           SELECT $1, p, h FROM unnest($2::text[], $3::text[]) AS t(p, h) ORDER BY p ON CONFLICT DO NOTHING
         ), o AS (
           INSERT INTO cr_run_objects (run_id, sha256)
           SELECT $1, h FROM unnest($4::text[]) AS t(h) ORDER BY h ON CONFLICT DO NOTHING
         )
         INSERT INTO cr_runs (run_id, registered_at, item_id, item_version) VALUES ($1, $5, $6, $7)
         ON CONFLICT (run_id) DO NOTHING`,
        [
          entry.run_id,
          files.map(([p]) => p),
          files.map(([, h]) => h),
          [...pinned].sort(),
          this.now().toISOString(),
          entry.item_id,
          entry.item_version,
        ],
      );
      if (entry.item_id !== null && entry.item_version !== null) {
        await client.query(
          `INSERT INTO cr_run_items (run_id, item_id, item_version, registered_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [entry.run_id, entry.item_id, entry.item_version, this.now().toISOString()],
        );
      }
      // A statement of its own: it sees the entry a concurrent publisher committed meanwhile.
      return (
        await client.query<RunRow>(
          "SELECT seq::text AS seq, run_id, registered_at, item_id, item_version FROM cr_runs WHERE run_id = $1",
          [entry.run_id],
        )
      ).rows[0];
    });
    return toRun(row as RunRow);
  }

  /**
   * A queue job's run and its job record, published together (queue/queue-worker.ts): what addRun does, at
   * a cost small next to the work. Hashes seen committed are remembered; while a pinned object
   * is not known present the registry is asked once, by hash, which objects it lacks, and only
   * those are read from the store (a pinned snapshot or index the registry has is never re-read,
   * re-hashed or sent). Then everything — the lacking objects, the run's files, pins and index
   * entry, the job record — goes in one statement, atomic like a transaction: in steady state one
   * round trip per job. Objects too large for
   * one statement take the transaction path of addRun. Returns whether this call recorded the
   * job (false: another worker recorded it first, and this computation was a duplicate).
   */
  async publishJob(
    entry: Omit<RunEntry, "registered_at">,
    from: LocalRun & { store?: DiskStore },
    job: { id: string; result: unknown },
  ): Promise<{ recorded: boolean }> {
    const opened = openRun(from.runDir);
    const { run } = requireParts(opened, ["run"]);
    const pinned = [...new Set(pinnedObjects(run))].sort();
    const files: Array<[string, string]> = [];
    const fileBytes = new Map<string, Uint8Array>();
    for (const [path, bytes] of [...opened.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const hash = sha256Hex(bytes);
      fileBytes.set(hash, bytes);
      files.push([path, hash]);
    }
    // Steady state (the pinned snapshot and index seen committed): no question asked, the run's
    // own small files not known present are sent and ON CONFLICT skips any the registry had;
    // otherwise one by-hash check first, so large objects the registry holds are never sent.
    const unknownFiles = [...fileBytes.keys()].filter((h) => !this.present.has(h));
    const lacking = pinned.every((h) => this.present.has(h))
      ? new Set(unknownFiles)
      : await this.withClient((client) => this.lacking(client, [...pinned, ...unknownFiles]));
    const objects = new Map<string, Uint8Array>();
    let bytesOut = 0;
    const store = from.store ?? new DiskStore(from.storeRoot);
    for (const hash of [...lacking].sort()) {
      const bytes = fileBytes.get(hash) ?? store.get(hash);
      if (bytes === null)
        throw new CanonError("E_STORE_MISSING", `store object sha256:${hash} pinned by the run is missing`, {
          exitCode: 3,
          where: { file: store.root },
        });
      objects.set(hash, bytes);
      bytesOut += bytes.length;
    }
    if (bytesOut > BATCH_BYTES || [...objects.values()].some((b) => b.length > CHUNK_BYTES)) {
      // Large objects (a first snapshot): in bounded pieces, inside a transaction.
      await this.addRun(entry, from);
      const recorded = await this.query(
        "INSERT INTO cr_jobs (job_id, run_id, result) VALUES ($1, $2, $3) ON CONFLICT (job_id) DO NOTHING RETURNING 1",
        [job.id, entry.run_id, JSON.stringify(job.result)],
      );
      this.remember([...pinned, ...fileBytes.keys()]);
      return { recorded: recorded.length > 0 };
    }
    const sorted = [...objects].sort(([a], [b]) => (a < b ? -1 : 1));
    // Rows in one global order (hash; each object here is one piece), as in writeObjects.
    const rows = await this.query<{ recorded: boolean }>(
      `WITH c AS (
         INSERT INTO cr_object_chunks (sha256, n, bytes)
         SELECT h, 0, b FROM unnest($1::text[], $2::bytea[]) AS t(h, b) WHERE length(b) > 0 ORDER BY h
         ON CONFLICT DO NOTHING
       ), o AS (
         INSERT INTO cr_objects (sha256, size, chunks)
         SELECT h, length(b), CASE WHEN length(b) > 0 THEN 1 ELSE 0 END
           FROM unnest($1::text[], $2::bytea[]) AS t(h, b) ORDER BY h
         ON CONFLICT DO NOTHING
       ), f AS (
         INSERT INTO cr_run_files (run_id, path, sha256)
         SELECT $3, p, h FROM unnest($4::text[], $5::text[]) AS t(p, h) ORDER BY p ON CONFLICT DO NOTHING
       ), r AS (
         INSERT INTO cr_run_objects (run_id, sha256)
         SELECT $3, h FROM unnest($6::text[]) AS t(h) ORDER BY h ON CONFLICT DO NOTHING
       ), e AS (
         INSERT INTO cr_runs (run_id, registered_at, item_id, item_version) VALUES ($3, $7, $8, $9)
         ON CONFLICT (run_id) DO NOTHING
       ), j AS (
         INSERT INTO cr_jobs (job_id, run_id, result) VALUES ($10, $3, $11)
         ON CONFLICT (job_id) DO NOTHING RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM j) AS recorded`,
      [
        sorted.map(([hash]) => hash),
        sorted.map(([, bytes]) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)),
        entry.run_id,
        files.map(([p]) => p),
        files.map(([, h]) => h),
        pinned,
        this.now().toISOString(),
        entry.item_id,
        entry.item_version,
        job.id,
        JSON.stringify(job.result),
      ],
    );
    this.remember([...pinned, ...fileBytes.keys()]);
    return { recorded: rows[0]?.recorded === true };
  }

  async getRun(runId: string): Promise<RunEntry | null> {
    const row = (
      await this.query<RunRow>(
        "SELECT seq::text AS seq, run_id, registered_at, item_id, item_version FROM cr_runs WHERE run_id = $1",
        [runId],
      )
    )[0];
    return row === undefined ? null : toRun(row);
  }

  async runItems(runId: string): Promise<RunItemSource[]> {
    return this.query<RunItemSource>(
      `SELECT item_id, item_version, registered_at FROM cr_run_items WHERE run_id = $1
       ORDER BY registered_at, item_id, item_version`,
      [runId],
    );
  }

  async listRuns(page: PageRequest): Promise<Page<RunEntry>> {
    const rows = await this.query<RunRow>(
      `SELECT seq::text AS seq, run_id, registered_at, item_id, item_version FROM cr_runs
       WHERE seq < $1 ORDER BY seq DESC LIMIT $2`,
      [afterCursor(page), page.limit + 1],
    );
    return pageOf(rows, page.limit, toRun);
  }

  /** Drops the index entry only: the objects stay, other runs may share them. */
  async removeRun(runId: string): Promise<void> {
    await this.query("DELETE FROM cr_runs WHERE run_id = $1", [runId]);
  }

  async materializeRun(runId: string, cacheRoot: string): Promise<string | null> {
    if (!ID_PATTERN.test(runId) || !runId.startsWith("run_")) return null;
    const rows = await this.query<{ path: string; sha256: string }>(
      "SELECT path, sha256 FROM cr_run_files WHERE run_id = $1 ORDER BY path",
      [runId],
    );
    if (rows.length === 0) return null;
    const damaged = (why: string) =>
      new IntegrityError(`registry entry of ${runId} is damaged: ${why}`, { file: this.where });
    const files = new Map<string, Uint8Array>();
    for (const { path } of rows) {
      // Rows are input like any other: a path that could leave the run directory is refused.
      if (!RUN_PATH.test(path) || path.split("/")[0] === "volatile")
        throw damaged(`file path ${JSON.stringify(path)} is not a run file name`);
    }
    const objects = await this.getObjects(rows.map((r) => r.sha256));
    for (const { path, sha256 } of rows) {
      const bytes = objects.get(sha256);
      if (bytes === undefined) throw damaged(`the object of ${path} (sha256:${sha256}) is missing`);
      files.set(path, bytes);
    }
    if (!files.has(RUN_FILES.manifest)) throw damaged(`it has no ${RUN_FILES.manifest}`);
    prepareArtifactsDir(cacheRoot);
    const store = new DiskStore(cacheRoot);
    const pinned = await this.query<{ sha256: string }>(
      "SELECT sha256 FROM cr_run_objects WHERE run_id = $1 ORDER BY sha256",
      [runId],
    );
    for (const { sha256 } of pinned) {
      if (store.has(sha256)) continue;
      // A pinned object the registry lacks is left for the verifier to report, like a missing store file.
      const bytes = await this.getObject(sha256);
      if (bytes !== null) store.put(bytes);
    }
    return writeRun(cacheRoot, runId, files).runDir;
  }

  // --- queue jobs ----------------------------------------------------------------------------

  /** Records what a finished job produced (the first record stays: a job computes one thing). */
  async recordJob(jobId: string, runId: string, result: unknown): Promise<void> {
    await this.query(
      "INSERT INTO cr_jobs (job_id, run_id, result) VALUES ($1, $2, $3) ON CONFLICT (job_id) DO NOTHING",
      [jobId, runId, JSON.stringify(result)],
    );
  }

  /** A finished job's run id and result, or null. */
  async jobRecord(jobId: string): Promise<{ runId: string; result: unknown } | null> {
    const row = (
      await this.query<{ run_id: string; result: string }>(
        "SELECT run_id, result FROM cr_jobs WHERE job_id = $1",
        [jobId],
      )
    )[0];
    return row === undefined ? null : { runId: row.run_id, result: JSON.parse(row.result) as unknown };
  }

  // --- items ---------------------------------------------------------------------------------

  async createItem(name: string, spec: ProblemSpec): Promise<Item> {
    const id = `item_${randomBytes(16).toString("hex")}`;
    const at = this.now().toISOString();
    await this.transaction(async (client) => {
      await client.query("INSERT INTO cr_items (id, created_at) VALUES ($1, $2)", [id, at]);
      await client.query(
        "INSERT INTO cr_item_versions (item_id, version, name, spec, updated_at) VALUES ($1, 1, $2, $3, $4)",
        [id, name, JSON.stringify(spec), at],
      );
    });
    return (await this.getItem(id)) as Item;
  }

  async getItem(id: string, version?: number): Promise<Item | null> {
    const rows =
      version === undefined
        ? await this.query<ItemRow>(`${ITEM_SELECT} WHERE i.id = $1 ORDER BY v.version DESC LIMIT 1`, [id])
        : await this.query<ItemRow>(`${ITEM_SELECT} WHERE i.id = $1 AND v.version = $2`, [id, version]);
    const row = rows[0];
    return row === undefined ? null : toItem(row);
  }

  async listItems(page: PageRequest): Promise<Page<Item>> {
    const rows = await this.query<ItemRow>(
      `${ITEM_SELECT} WHERE i.seq < $1
         AND v.version = (SELECT MAX(version) FROM cr_item_versions WHERE item_id = i.id)
       ORDER BY i.seq DESC LIMIT $2`,
      [afterCursor(page), page.limit + 1],
    );
    return pageOf(rows, page.limit, toItem);
  }

  async updateItem(id: string, name: string, spec: ProblemSpec): Promise<Item | null> {
    const version = await this.transaction(async (client: Queryable) => {
      // The item row is locked, so two updates at once make versions n+1 and n+2, not a conflict.
      const locked = await client.query("SELECT 1 FROM cr_items WHERE id = $1 FOR UPDATE", [id]);
      if (locked.rowCount === 0) return null;
      const current = await client.query<{ version: number }>(
        "SELECT MAX(version) AS version FROM cr_item_versions WHERE item_id = $1",
        [id],
      );
      const next = (current.rows[0]?.version ?? 0) + 1;
      await client.query(
        "INSERT INTO cr_item_versions (item_id, version, name, spec, updated_at) VALUES ($1, $2, $3, $4, $5)",
        [id, next, name, JSON.stringify(spec), this.now().toISOString()],
      );
      return next;
    });
    // The version this update made: by the time it is read back another update may have made a later one.
    return version === null ? null : this.getItem(id, version);
  }

  async deleteItem(id: string): Promise<boolean> {
    try {
      return ((await this.pool.query("DELETE FROM cr_items WHERE id = $1", [id])).rowCount ?? 0) > 0;
    } catch (error) {
      throw registryError(error, this.where);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
