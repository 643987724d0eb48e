/**
 * Publishing runs to the PostgreSQL registry in batches: several runs (a queue worker's finished
 * jobs, or one run of `addRun`) in one statement, or, when large objects go along, in one
 * transaction. Per batch, whatever the number of runs or files:
 *
 *   - at most one question, by hash and in bulk, for the objects that are not known present and
 *     are worth not re-sending: every pinned object (a snapshot, an index) and every run file
 *     larger than SEND_UNASKED_BYTES. A pinned object the registry has is never read from the
 *     store, re-hashed or sent. Smaller run files are sent unasked (the question would cost more
 *     than the bytes), and ON CONFLICT skips the ones the registry had;
 *   - one statement writing the lacking objects, every run's files, pins and index entry, the
 *     item versions it came from and the job records: atomic, so a run the index names is
 *     always readable, and a job is recorded only with its run. Objects too large for one
 *     statement go first in bounded pieces, inside the same transaction.
 *
 * Every insert is ON CONFLICT DO NOTHING and rows go in one global order (by key), so publishers
 * of the same runs or objects at once neither fail nor deadlock: the later one waits for the
 * earlier one's rows and skips them. Run and job ids are content-derived, so a batch published
 * again (a worker that crashed after the commit but before acknowledging its jobs) changes nothing.
 */
import type pg from "pg";
import { RUN_FILES } from "../core/artifact/files.js";
import { pinnedObjects } from "../core/artifact/names.js";
import { toRunView } from "../core/artifact/view.js";
import { sha256Hex } from "../core/canonical.js";
import { CanonError, InputError } from "../core/errors.js";
import type { DiskStore } from "../io/store/content-store.js";
import { BATCH_BYTES, CHUNK_BYTES, type KnownObjects, type Queryable, writeObjects } from "./pg-objects.js";
import type { RunEntry } from "./run-registry.js";

/** Run files up to this size are sent without asking whether the registry has them. */
export const SEND_UNASKED_BYTES = 64 * 1024;

export interface PublishRequest {
  entry: Omit<RunEntry, "registered_at">;
  /** The run's files as written (volatile/ left out), by path. */
  files: ReadonlyMap<string, Uint8Array>;
  /** Where the run's pinned objects are read, for the ones the registry lacks. */
  store: Pick<DiskStore, "get" | "root">;
  /** The queue job whose run this is, recorded with it; none for a plain publish. */
  job?: { id: string; result: unknown };
}

/** What publishing needs of the registry: a connection, a transaction, and its clock. */
export interface PublishTarget {
  withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  known: KnownObjects;
  now(): Date;
}

interface PlannedRun {
  request: PublishRequest;
  files: Array<[string, string]>;
  pinned: string[];
}

/** A run's file list (by path) and pinned objects; bad input when run.json does not parse. */
function plan(request: PublishRequest, bytesByHash: Map<string, Uint8Array>): PlannedRun {
  const runJson = request.files.get(RUN_FILES.run);
  const run = runJson === undefined ? null : toRunView(new Map([[RUN_FILES.run, runJson]])).view.run;
  if (run === null)
    throw new InputError("E_NOT_A_RUN", `${RUN_FILES.run} of ${request.entry.run_id} is unreadable`);
  const files: Array<[string, string]> = [];
  for (const [path, bytes] of [...request.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const hash = sha256Hex(bytes);
    bytesByHash.set(hash, bytes);
    files.push([path, hash]);
  }
  return { request, files, pinned: [...new Set(pinnedObjects(run))].sort() };
}

/**
 * Publishes `requests` as one batch (see the file's comment); for each request, whether this
 * call recorded its job (false: another publisher recorded it first, or the request had none).
 * Resolves only once the batch is committed.
 */
export async function publishRuns(
  target: PublishTarget,
  requests: readonly PublishRequest[],
): Promise<boolean[]> {
  if (requests.length === 0) return [];
  const fileBytes = new Map<string, Uint8Array>();
  const planned = requests.map((r) => plan(r, fileBytes));
  const pinned = new Set(planned.flatMap((p) => p.pinned));
  const { known } = target;
  const ask = [
    ...[...pinned].filter((h) => !known.has(h)),
    ...[...fileBytes].filter(([h, b]) => b.length > SEND_UNASKED_BYTES && !known.has(h)).map(([h]) => h),
  ];
  const lackingAsked =
    ask.length === 0 ? new Set<string>() : await target.withClient((client) => known.lacking(client, ask));
  const send = new Map<string, Uint8Array>();
  for (const [hash, bytes] of fileBytes)
    if (!known.has(hash) && (bytes.length <= SEND_UNASKED_BYTES || lackingAsked.has(hash)))
      send.set(hash, bytes);
  for (const hash of [...pinned].sort()) {
    if (!lackingAsked.has(hash) || send.has(hash)) continue;
    const owner = planned.find((p) => p.pinned.includes(hash))?.request.store;
    const bytes = owner?.get(hash) ?? null;
    if (bytes === null)
      throw new CanonError("E_STORE_MISSING", `store object sha256:${hash} pinned by the run is missing`, {
        exitCode: 3,
        where: { file: owner?.root ?? "" },
      });
    send.set(hash, bytes);
  }
  let bytesOut = 0;
  let large = false;
  for (const bytes of send.values()) {
    bytesOut += bytes.length;
    large ||= bytes.length > CHUNK_BYTES;
  }
  const at = target.now().toISOString();
  const recorded =
    large || bytesOut > BATCH_BYTES
      ? // Large objects (a first snapshot): in bounded pieces, then the rows, in one transaction.
        await target.transaction(async (client) => {
          await writeObjects(client, send);
          return writeRows(client, new Map(), planned, at);
        })
      : await target.withClient((client) => writeRows(client, send, planned, at));
  known.remember([...pinned, ...fileBytes.keys()]);
  // The first request naming a job recorded by this statement is the one that recorded it.
  const claimed = new Set<string>();
  return requests.map((r) => {
    if (r.job === undefined || !recorded.has(r.job.id) || claimed.has(r.job.id)) return false;
    claimed.add(r.job.id);
    return true;
  });
}

/** Key order for every row list: a global order, so concurrent batches never deadlock. */
const byKey = (a: readonly unknown[], b: readonly unknown[]) => {
  for (let i = 0; i < a.length; i++) {
    const x = String(a[i]);
    const y = String(b[i]);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

/** Where each object starts in the objects' bytes laid end to end. */
function offsets(objects: ReadonlyArray<readonly [string, Uint8Array]>): number[] {
  let at = 0;
  return objects.map(([, bytes]) => {
    const start = at;
    at += bytes.length;
    return start;
  });
}

/**
 * One statement: the objects in `send` (each one piece at most), every run's files, pins,
 * index entry and item versions, and the job records. Returns the job ids it recorded.
 */
async function writeRows(
  client: Queryable,
  send: ReadonlyMap<string, Uint8Array>,
  planned: readonly PlannedRun[],
  at: string,
): Promise<Set<string>> {
  const objects = [...send].sort(([a], [b]) => (a < b ? -1 : 1));
  const files = new Map<string, [string, string, string]>();
  const pins = new Map<string, [string, string]>();
  const runs = new Map<string, [string, string | null, number | null]>();
  const items = new Map<string, [string, string, number]>();
  const jobs = new Map<string, [string, string, string]>();
  for (const { request, files: list, pinned } of planned) {
    const { run_id: runId, item_id: itemId, item_version: version } = request.entry;
    for (const [path, hash] of list) files.set(`${runId}\0${path}`, [runId, path, hash]);
    for (const hash of pinned) pins.set(`${runId}\0${hash}`, [runId, hash]);
    if (!runs.has(runId)) runs.set(runId, [runId, itemId, version]);
    if (itemId !== null && version !== null)
      items.set(`${runId}\0${itemId}\0${version}`, [runId, itemId, version]);
    const job = request.job;
    if (job !== undefined && !jobs.has(job.id)) jobs.set(job.id, [job.id, runId, JSON.stringify(job.result)]);
  }
  const column = <T extends readonly unknown[], K extends number>(rows: Map<string, T>, k: K) =>
    [...rows.values()].sort(byKey).map((row) => row[k]);
  const result = await client.query<{ job_id: string }>(
    `WITH c AS (
       INSERT INTO cr_object_chunks (sha256, n, bytes)
       SELECT h, 0, substring($2::bytea FROM s + 1 FOR n)
         FROM unnest($1::text[], $18::int[], $19::int[]) AS t(h, s, n) WHERE n > 0
       ON CONFLICT DO NOTHING
     ), o AS (
       INSERT INTO cr_objects (sha256, size, chunks)
       SELECT h, n, CASE WHEN n > 0 THEN 1 ELSE 0 END FROM unnest($1::text[], $19::int[]) AS t(h, n)
       ON CONFLICT DO NOTHING
     ), f AS (
       INSERT INTO cr_run_files (run_id, path, sha256)
       SELECT * FROM unnest($3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING
     ), p AS (
       INSERT INTO cr_run_objects (run_id, sha256)
       SELECT * FROM unnest($6::text[], $7::text[]) ON CONFLICT DO NOTHING
     ), e AS (
       INSERT INTO cr_runs (run_id, registered_at, item_id, item_version)
       SELECT r, $8, i, v FROM unnest($9::text[], $10::text[], $11::int[]) AS t(r, i, v)
       ON CONFLICT (run_id) DO NOTHING
     ), s AS (
       INSERT INTO cr_run_items (run_id, item_id, item_version, registered_at)
       SELECT r, i, v, $8 FROM unnest($12::text[], $13::text[], $14::int[]) AS t(r, i, v)
       ON CONFLICT DO NOTHING
     ), j AS (
       INSERT INTO cr_jobs (job_id, run_id, result)
       SELECT * FROM unnest($15::text[], $16::text[], $17::text[])
       ON CONFLICT (job_id) DO NOTHING RETURNING job_id
     )
     SELECT job_id FROM j`,
    [
      objects.map(([hash]) => hash),
      // One binary parameter for all the bytes (an array of bytea would travel hex-encoded, twice
      // the size, encoded here and decoded there); each object is a slice of it ($18, $19).
      Buffer.concat(objects.map(([, bytes]) => bytes)),
      column(files, 0),
      column(files, 1),
      column(files, 2),
      column(pins, 0),
      column(pins, 1),
      at,
      column(runs, 0),
      column(runs, 1),
      column(runs, 2),
      column(items, 0),
      column(items, 1),
      column(items, 2),
      column(jobs, 0),
      column(jobs, 1),
      column(jobs, 2),
      offsets(objects),
      objects.map(([, bytes]) => bytes.length),
    ],
  );
  return new Set(result.rows.map((r) => r.job_id));
}
