/**
 * Resolves a corpus (path or pinned snapshot hash) into a retrieval backend: the snapshot
 * and the BM25 index, each built once and cached in the store. Cache keys cover every input
 * that shapes the bytes (reader version, limits, index parameters, analyzer version,
 * index format), so a cache hit is always the same bytes a rebuild would write.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, sha256Hex } from "../../core/canonical.js";
import { type CorpusRef, corpusRefString } from "../../core/corpus/corpus-ref.js";
import {
  type CorpusDocument,
  findDocuments,
  readSnapshot,
  snapshotLine,
} from "../../core/corpus/document.js";
import { CanonError, InputError } from "../../core/errors.js";
import type { RetrievalProvenance } from "../../core/models/trace.js";
import type { RetrievalBackend } from "../../core/pipeline/produce.js";
import { getAnalyzer } from "../../core/retrieval/analyzer.js";
import {
  INDEX_FORMAT_VERSION,
  indexFormatVersion,
  loadIndex,
  READABLE_VERSIONS,
  serializeIndex,
} from "../../core/retrieval/bm25/bm25-format.js";
import type { Bm25Index } from "../../core/retrieval/bm25/bm25-index.js";
import {
  type IndexParams,
  indexBuiltWith,
  pickIndexParams,
  provenanceIndexFields,
  toBm25Params,
} from "../../core/retrieval/index-params.js";
import { REBUILD_RULE_VERSION, type RebuildRecords } from "../../core/verify/pinned-index.js";
import {
  type CorpusLimits,
  DEFAULT_LIMITS,
  folderDocuments,
  readCorpus,
  statCorpus,
} from "../corpus/corpus-reader.js";
import type { DiskStore } from "../store/content-store.js";
import { buildIndexInThreads } from "./index-build-pool.js";

export interface Progress {
  start(label: string, total: number): void;
  update(done: number): void;
  stop(): void;
}

export interface ResolvedSnapshot {
  hash: string;
  /** Parsed documents when the snapshot was just built (saves a re-parse for indexing). */
  documents: CorpusDocument[] | null;
}

/** Bumped whenever the reader could turn the same input into different snapshot bytes. */
// "2": invalid UTF-8 in JSONL is refused (it was replaced with U+FFFD), a BOM is stripped.
const CORPUS_READER_VERSION = "2";

/** sha256 of a file read in 1 MiB pieces, so a corpus is not held in memory only to be hashed. */
function sha256File(path: string): string {
  const hash = createHash("sha256");
  const piece = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, "r");
  try {
    let read = readSync(fd, piece, 0, piece.length, null);
    while (read > 0) {
      hash.update(piece.subarray(0, read));
      read = readSync(fd, piece, 0, piece.length, null);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** Digest of the raw input: the file bytes, or every path and file hash of a folder. */
function inputDigest(path: string): string {
  // Only a regular file or a folder: a FIFO or a device is refused before it is opened.
  if (statCorpus(path).isDirectory()) {
    // Every time, cached or not: a folder with no document is refused, skipped files are named.
    const { documents, skipped } = folderDocuments(path);
    if (skipped !== "") process.stderr.write(`canon-reason: warning: corpus folder ${path}: ${skipped}\n`);
    const entries = documents.map((rel) => [rel, sha256Hex(readFileSync(join(path, rel)))]);
    return sha256Hex(canonicalJson({ folder: entries }));
  }
  return sha256File(path);
}

/** Snapshots the corpus at `path` into the store once; later calls with the same bytes hit the cache. */
export async function snapshotCorpus(
  store: DiskStore,
  path: string,
  limits: CorpusLimits,
): Promise<ResolvedSnapshot> {
  let digest: string;
  try {
    digest = inputDigest(path);
  } catch (error) {
    if (error instanceof CanonError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new InputError("E_CORPUS_READ", `cannot read corpus (${code})`, { file: path }, error);
  }
  const made = { input_sha256: digest, reader: CORPUS_READER_VERSION, limits: { ...limits } };
  const refName = `corpus-input/${sha256Hex(canonicalJson(made))}`;
  // Followed only when its record names exactly this input (a retargeted ref is not).
  const cached = store.readCheckedRef(refName, made);
  if (cached !== null) return { hash: cached, documents: null };
  const { documents } = await readCorpus(path, limits);
  // One Buffer per line, not one string: a large corpus exceeds V8's maximum string length.
  const hash = store.put(Buffer.concat(documents.map((d) => Buffer.from(snapshotLine(d), "utf8"))), true);
  store.writeCheckedRef(refName, made, hash);
  return { hash, documents };
}

/** A snapshot's bytes from the store: E_STORE_MISSING when absent, E_NOT_A_SNAPSHOT when they are not one. */
export function loadSnapshot(store: DiskStore, hash: string): Uint8Array {
  const bytes = store.get(hash);
  if (bytes === null) {
    throw new InputError(
      "E_STORE_MISSING",
      `corpus snapshot sha256:${hash} is not in the store at ${store.root}`,
      {
        field: "constraints.corpus",
      },
    );
  }
  // Any object in the store can be named by its hash; only a snapshot starts with a document
  // line (an index starts "CRBM25"). Checked before anything parses it.
  if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(0, 10).equals(SNAPSHOT_START)) {
    throw new InputError(
      "E_NOT_A_SNAPSHOT",
      `sha256:${hash} is in the store but is not a corpus snapshot (an index or other object?)`,
      { field: "constraints.corpus" },
    );
  }
  return bytes;
}

/** The documents of a stored snapshot; an object that only looks like one is bad input. */
function parseSnapshot(bytes: Uint8Array, hash: string): CorpusDocument[] {
  try {
    return [...readSnapshot(bytes)];
  } catch (error) {
    throw new InputError(
      "E_NOT_A_SNAPSHOT",
      `sha256:${hash} is not a corpus snapshot (${(error as Error).message})`,
      { field: "constraints.corpus" },
      error,
    );
  }
}

/** Every snapshot line, hence every snapshot, begins with this (see snapshotLine). */
const SNAPSHOT_START = Buffer.from('{"doc_id":', "utf8");

export interface PreparedRetrieval {
  backend: RetrievalBackend;
  snapshotHash: string;
  indexHash: string;
  built: boolean;
}

export interface PrepareOptions {
  /** Threads to build an index with (this one included); 1, the default, builds in this thread. */
  threads?: number;
  /** Collect every shard in a worker thread, keeping this thread's event loop free (the service). */
  offThread?: boolean;
  /**
   * The index a recorded run pinned. Used as it is when it has another readable format than
   * this build writes (so a rebuild would not give its bytes) and was built with these
   * parameters: live replay then searches the index the run searched.
   */
  pinnedIndex?: string;
  /**
   * Rebuilds seen to agree (io/index-cache/rebuild-records.ts): a cached index one of them
   * names, with this snapshot and these parameters, loads without its consistency pass.
   */
  rebuilds?: RebuildRecords;
}

/**
 * The pinned index when it is in the store, of another format than this build writes (an older
 * one, or format 3, which it reads but does not write by default), and built with `params`; else null.
 */
function olderPinnedIndex(
  store: DiskStore,
  hash: string,
  params: IndexParams,
): { index: Bm25Index; hash: string } | null {
  const bytes = store.get(hash);
  if (bytes === null) return null;
  const format = indexFormatVersion(bytes);
  if (format === INDEX_FORMAT_VERSION || format > Math.max(...READABLE_VERSIONS)) return null;
  const index = loadIndex(bytes);
  return indexBuiltWith(index, params, getAnalyzer(params.analyzer)) ? { index, hash } : null;
}

/** The `refs/` name of the index of `snapshot` built with `params` by this build (its cache key). */
export function indexRefName(snapshot: string, params: IndexParams): string {
  const analyzer = getAnalyzer(params.analyzer);
  const indexOf = {
    snapshot,
    params,
    analyzer: { id: analyzer.id, version: analyzer.version },
    format: INDEX_FORMAT_VERSION,
  };
  return `index/${sha256Hex(canonicalJson(indexOf))}`;
}

export async function prepareRetrieval(
  store: DiskStore,
  corpus: CorpusRef,
  params: IndexParams,
  limits: CorpusLimits = DEFAULT_LIMITS,
  progress?: Progress,
  options: PrepareOptions = {},
): Promise<PreparedRetrieval> {
  const pinned = corpus.kind === "snapshot";
  const snap: ResolvedSnapshot =
    corpus.kind === "snapshot"
      ? { hash: corpus.hash, documents: null }
      : await snapshotCorpus(store, corpus.path, limits);
  const analyzer = getAnalyzer(params.analyzer);
  const indexOf = {
    snapshot: snap.hash,
    params,
    analyzer: { id: analyzer.id, version: analyzer.version },
    format: INDEX_FORMAT_VERSION,
  };
  const indexRef = indexRefName(snap.hash, params);
  let snapshotBytes: Uint8Array | null = null;
  const snapshot = () => {
    snapshotBytes ??= loadSnapshot(store, snap.hash);
    return snapshotBytes;
  };
  // A pinned hash is user input: check it names a snapshot before any cached index is trusted.
  if (pinned) snapshot();
  const overLimit = (chunks: number) =>
    new InputError(
      "E_CORPUS_LIMIT",
      `${chunks} chunks exceed the limit of ${limits.max_chunks} (raise --max-chunks)`,
      { file: corpusRefString(corpus) },
    );
  const pinnedOlder =
    options.pinnedIndex === undefined ? null : olderPinnedIndex(store, options.pinnedIndex, params);
  // Followed only when its record names this snapshot, these parameters and this format.
  let indexHash = pinnedOlder?.hash ?? store.readCheckedRef(indexRef, indexOf);
  let index: Bm25Index | null = pinnedOlder?.index ?? null;
  let built = false;
  if (index === null && indexHash !== null) {
    const bytes = store.get(indexHash);
    const vouched =
      options.rebuilds?.agreed({
        rule: REBUILD_RULE_VERSION,
        snapshot: snap.hash,
        index: indexHash,
        index_format: indexFormatVersion(bytes ?? new Uint8Array()),
        params: pickIndexParams(params),
        analyzer: { name: analyzer.id, version: analyzer.version },
      }) === true;
    if (bytes !== null) index = loadIndex(bytes, vouched);
  }
  // The limit holds for a cached or pinned index too, not only for a fresh build.
  if (index !== null && index.stats.chunks > limits.max_chunks) throw overLimit(index.stats.chunks);
  if (index === null) {
    const docs = snap.documents ?? parseSnapshot(snapshot(), snap.hash);
    const total = docs.reduce((n, d) => n + Buffer.byteLength(d.text, "utf8"), 0);
    progress?.start("indexing", total);
    index = await buildIndexInThreads(
      docs.map((d) =>
        d.title === undefined
          ? { docId: d.doc_id, text: d.text }
          : { docId: d.doc_id, text: d.text, title: d.title },
      ),
      toBm25Params(params),
      options.threads ?? 1,
      (done) => progress?.update(done),
      { offThread: options.offThread === true },
    );
    progress?.stop();
    if (index.stats.chunks > limits.max_chunks) throw overLimit(index.stats.chunks);
    indexHash = store.put(serializeIndex(index), true);
    store.writeCheckedRef(indexRef, indexOf, indexHash);
    built = true;
  }
  const provenance: RetrievalProvenance = {
    corpus_snapshot: snap.hash,
    index_hash: indexHash as string,
    ...provenanceIndexFields(params, analyzer),
    limits: { ...limits },
    documents: index.stats.documents,
    chunks: index.stats.chunks,
    evidence: "sentences",
  };
  const lookup = (docIds: readonly string[]) => {
    const found = findDocuments(snapshot(), docIds);
    return new Map([...found].map(([id, doc]) => [id, Buffer.from(doc.text, "utf8")]));
  };
  return {
    backend: { index, provenance, lookup },
    snapshotHash: snap.hash,
    indexHash: indexHash as string,
    built,
  };
}
