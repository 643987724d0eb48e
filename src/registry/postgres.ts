/**
 * The shared registry on PostgreSQL (the `pg` client): the run index and items, as in SQLite,
 * plus a content-addressed object table holding every published run's files and the store
 * objects it pins (corpus snapshot, index). Any machine that reaches the database can then
 * read a run it did not make: `materializeRun` writes it into a local cache directory,
 * re-hashing every object on the way, and the one run reader (io/runs/run-reader.ts) opens it there.
 *
 * Objects (pg-objects.ts) are stored in bounded pieces, a present row meaning a complete object;
 * runs are published in batches (pg-publish.ts). Every write is idempotent (ON CONFLICT DO
 * NOTHING), so machines publishing the same run at once agree. Migrations (migrations.ts) are
 * applied at start under an advisory lock (concurrent starts wait for each other).
 * A server restart costs the connections open at the time, never the process: the pool drops
 * them (idle or checked out) and connects anew; what was asked meanwhile is E_REGISTRY_UNAVAILABLE.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { RUN_FILES } from "../core/artifact/files.js";
import { ID_PATTERN, sha256Hex } from "../core/canonical.js";
import { CanonError, IntegrityError } from "../core/errors.js";
import type { ProblemSpec } from "../core/models/spec.js";
import { readRunDirectory } from "../io/runs/run-reader.js";
import { writeRun } from "../io/runs/run-writer.js";
import { prepareArtifactsDir } from "../io/store/artifacts.js";
import { DiskStore } from "../io/store/content-store.js";
import { migrate } from "./migrations.js";
import { redactUrl, registryError } from "./pg-errors.js";
import { KnownObjects, type Queryable, readObjects, writeObjects } from "./pg-objects.js";
import { type PublishRequest, type PublishTarget, publishRuns } from "./pg-publish.js";
import { afterCursor, type ItemRow, pageOf, type RunRow, toItem, toRun } from "./rows.js";
import type { Item, LocalRun, Page, PageRequest, Registry, RunEntry, RunItemSource } from "./run-registry.js";

/** A run's file path as the writer makes them: plain names, no dot segments, no volatile/. */
const RUN_PATH = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\/){0,7}[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const ITEM_SELECT = `SELECT i.seq::text AS seq, i.id, i.created_at, v.version, v.name, v.spec, v.updated_at
  FROM cr_items i JOIN cr_item_versions v ON v.item_id = i.id`;

const RUN_SELECT = "SELECT seq::text AS seq, run_id, registered_at, item_id, item_version FROM cr_runs";

export interface PgRegistryOptions {
  now?: () => Date;
  /** Connections kept open at most (default 4). */
  maxConnections?: number;
}

export class PgRegistry implements Registry {
  readonly shared = true;

  /** Objects this process has seen committed in the registry (pg-objects.ts). */
  private readonly known = new KnownObjects();

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
    await this.transaction(async (client) => {
      if ((await this.known.lacking(client, [hash])).size > 0)
        await writeObjects(client, new Map([[hash, bytes]]));
    });
    this.known.remember([hash]);
    return hash;
  }

  /** The bytes of an object, re-hashed; null when absent. A piece missing or altered is an IntegrityError. */
  async getObject(hash: string): Promise<Uint8Array | null> {
    return (await this.withClient((client) => readObjects(client, [hash], this.where))).get(hash) ?? null;
  }

  // --- runs ----------------------------------------------------------------------------------

  /** What pg-publish.ts needs of this registry. */
  private get publishTarget(): PublishTarget {
    return {
      withClient: (fn) => this.withClient(fn),
      transaction: (fn) => this.transaction(fn),
      known: this.known,
      now: this.now,
    };
  }

  /**
   * Publishes a run (pg-publish.ts: a bulk by-hash check, then one statement or transaction,
   * the index entry written with the objects and files it names, never before them).
   */
  async addRun(entry: Omit<RunEntry, "registered_at">, from?: LocalRun): Promise<RunEntry> {
    if (from === undefined) {
      const at = this.now().toISOString();
      await this.query(
        `WITH e AS (
           INSERT INTO cr_runs (run_id, registered_at, item_id, item_version) VALUES ($1, $2, $3, $4)
           ON CONFLICT (run_id) DO NOTHING
         )
         INSERT INTO cr_run_items (run_id, item_id, item_version, registered_at)
         SELECT $1, $3, $4, $2 WHERE $3::text IS NOT NULL AND $4::int IS NOT NULL ON CONFLICT DO NOTHING`,
        [entry.run_id, at, entry.item_id, entry.item_version],
      );
    } else await publishRuns(this.publishTarget, [this.requestOf(entry, from)]);
    // A statement of its own: it sees the entry a concurrent publisher committed meanwhile.
    const row = (await this.query<RunRow>(`${RUN_SELECT} WHERE run_id = $1`, [entry.run_id]))[0];
    return toRun(row as RunRow);
  }

  /**
   * A run on disk as a publish request: its files read through the one run reader (volatile/
   * left out), only run.json parsed (pg-publish.ts), as the files were checked when written.
   */
  private requestOf(entry: Omit<RunEntry, "registered_at">, from: LocalRun & { store?: DiskStore }) {
    const { files } = readRunDirectory(from.runDir);
    return { entry, files, store: from.store ?? new DiskStore(from.storeRoot) };
  }

  /**
   * Queue jobs' runs and job records, published as one batch (pg-publish.ts), resolving once it
   * is committed: for each, whether this call recorded its job (false: another worker recorded
   * it first, and this computation was a duplicate).
   */
  async publishJobs(requests: readonly PublishRequest[]): Promise<boolean[]> {
    return publishRuns(this.publishTarget, requests);
  }

  /** One job's run (read from disk) and record: `publishJobs` of one. */
  async publishJob(
    entry: Omit<RunEntry, "registered_at">,
    from: LocalRun & { store?: DiskStore },
    job: { id: string; result: unknown },
  ): Promise<{ recorded: boolean }> {
    const [recorded] = await this.publishJobs([{ ...this.requestOf(entry, from), job }]);
    return { recorded: recorded === true };
  }

  async getRun(runId: string): Promise<RunEntry | null> {
    const row = (await this.query<RunRow>(`${RUN_SELECT} WHERE run_id = $1`, [runId]))[0];
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
    const rows = await this.query<RunRow>(`${RUN_SELECT} WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, [
      afterCursor(page),
      page.limit + 1,
    ]);
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
    const objects = await this.withClient((client) =>
      readObjects(
        client,
        rows.map((r) => r.sha256),
        this.where,
      ),
    );
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
