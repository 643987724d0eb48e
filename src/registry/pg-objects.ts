/**
 * The PostgreSQL registry's content-addressed objects: a run's files and the store objects it
 * pins (corpus snapshot, index), each under its sha256. An object is stored in bounded pieces
 * (1 MiB chunks); its row in `cr_objects` is written in the same transaction as its chunks, so a
 * present row means a complete object. Objects are never deleted (removing a run drops its index
 * entry only), so a hash once seen present stays present: `KnownObjects` remembers such hashes,
 * and a publisher asks the registry, in bulk and by hash, only about the ones it does not know.
 */
import type pg from "pg";
import { sha256Hex } from "../core/canonical.js";
import { IntegrityError } from "../core/errors.js";

/** Largest piece of an object in one row: bounded memory per row on both ends. */
export const CHUNK_BYTES = 1024 * 1024;
/** Bytes of object data per statement: bounded memory for a large snapshot or index. */
export const BATCH_BYTES = 8 * CHUNK_BYTES;
export const HEX64 = /^[0-9a-f]{64}$/;

export type Queryable = Pick<pg.PoolClient, "query">;

/**
 * Writes objects the registry lacks, inside the caller's transaction: their pieces in multi-row
 * inserts of at most BATCH_BYTES, then their object rows (present means complete). Rows go in
 * one global order (hash, then piece), so concurrent writers of overlapping objects queue on
 * the same keys in the same order instead of deadlocking; a large object another writer is
 * writing is waited for and not sent again (`unclaimed`).
 */
export async function writeObjects(
  client: Queryable,
  objects: ReadonlyMap<string, Uint8Array>,
): Promise<void> {
  if (objects.size === 0) return;
  const sorted = await unclaimed(
    client,
    [...objects].sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  if (sorted.length === 0) return;
  // Compressed with lz4 where the server has it: about half the server's CPU of PostgreSQL's
  // default (pglz) on writing a snapshot or an index, the same size; readers need nothing (each
  // value names its method). For this transaction only; a server without lz4 keeps pglz.
  await client.query(
    `SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings
      WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)`,
  );
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

/** Objects of at least this size are written under a lock of their own (see `unclaimed`). */
const LOCKED_BYTES = 64 * 1024;

/** An object's advisory lock key: the first 60 bits of its hash (below the migrations' key). */
const lockKey = (hash: string) => BigInt(`0x${hash.slice(0, 15)}`);

/**
 * Of `sorted` (by hash), the objects still to write once the caller's transaction holds a lock
 * on each large one. Publishers writing the same large object at once (every worker's first run
 * pins the index it built, the same bytes on every machine) queue on its lock: the first writes
 * it, the others find it committed and send nothing, instead of each sending megabytes that the
 * server parses and then discards (ON CONFLICT made them wait for the first anyway). Locks are
 * taken in one order, by key, before any row is written, so waiting on them cannot deadlock.
 */
async function unclaimed(
  client: Queryable,
  sorted: Array<[string, Uint8Array]>,
): Promise<Array<[string, Uint8Array]>> {
  const large = sorted.filter(([, bytes]) => bytes.length >= LOCKED_BYTES).map(([hash]) => hash);
  if (large.length === 0) return sorted;
  const keys = [...new Set(large.map(lockKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  await client.query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS t(k)", [keys.map(String)]);
  const { rows } = await client.query<{ sha256: string }>(
    "SELECT sha256 FROM cr_objects WHERE sha256 = ANY($1::text[])",
    [large],
  );
  const present = new Set(rows.map((r) => r.sha256));
  return sorted.filter(([hash]) => !present.has(hash));
}

/**
 * Objects this process has seen committed in the registry (bounded: a long-lived worker does
 * not grow without end). A worker publishing its hundredth run over one snapshot neither
 * re-reads nor re-asks about the snapshot and index.
 */
export class KnownObjects {
  private readonly present = new Set<string>();
  private static readonly KEPT = 100_000;

  has(hash: string): boolean {
    return this.present.has(hash);
  }

  /** Remembers hashes known to be committed. */
  remember(hashes: Iterable<string>): void {
    if (this.present.size > KnownObjects.KEPT) this.present.clear();
    for (const hash of hashes) this.present.add(hash);
  }

  /** Of `hashes`, those the object table lacks: one round trip for the ones not known present, none when all are. */
  async lacking(client: Queryable, hashes: Iterable<string>): Promise<Set<string>> {
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
}

/**
 * The bytes of several objects (each re-hashed) in one round trip; an absent object is left
 * out of the map. Meant for a run's files: small, so one answer holds them all. A piece
 * missing or altered is an IntegrityError naming `where`.
 */
export async function readObjects(
  client: Queryable,
  hashes: readonly string[],
  where: string,
): Promise<Map<string, Uint8Array>> {
  for (const hash of hashes)
    if (!HEX64.test(hash))
      throw new IntegrityError(`registry names a malformed object hash ${JSON.stringify(hash)}`);
  const { rows } = await client.query<{
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
        file: where,
      });
    if (head.rows.length !== head.chunks || head.rows.some((r, i) => r.n !== i)) throw corrupt();
    const bytes = Buffer.concat(head.rows.map((r) => r.bytes as Buffer));
    if (String(bytes.length) !== head.size || sha256Hex(bytes) !== hash) throw corrupt();
    objects.set(hash, bytes);
  }
  return objects;
}
