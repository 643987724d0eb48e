/**
 * Resolves a corpus (path or pinned snapshot hash) into a retrieval backend: the snapshot
 * (io/corpus/corpus-snapshot.ts) and the BM25 index, each built once and cached in the store. Cache keys cover every input
 * that shapes the bytes (reader version, limits, index parameters, analyzer version,
 * index format), so a cache hit is always the same bytes a rebuild would write.
 */
import { canonicalJson, sha256Hex } from "../../core/canonical.js";
import { type CorpusRef, corpusRefString } from "../../core/corpus/corpus-ref.js";
import { InputError } from "../../core/errors.js";
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
  provenanceIndexFields,
  toBm25Params,
} from "../../core/retrieval/index-params.js";
import { type RebuildRecords, rebuildSubject } from "../../core/verify/pinned-index.js";
import { type CorpusLimits, DEFAULT_LIMITS } from "../corpus/corpus-reader.js";
import { storedSnapshot } from "../corpus/corpus-snapshot.js";
import type { DiskStore } from "../store/content-store.js";
import { buildIndexInThreads } from "./index-build-pool.js";

export interface Progress {
  start(label: string, total: number): void;
  update(done: number): void;
  stop(): void;
}

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
  const snap = await storedSnapshot(store, corpus, limits);
  const analyzer = getAnalyzer(params.analyzer);
  const indexOf = {
    snapshot: snap.hash,
    params,
    analyzer: { id: analyzer.id, version: analyzer.version },
    format: INDEX_FORMAT_VERSION,
  };
  const indexRef = indexRefName(snap.hash, params);
  const indexFields = provenanceIndexFields(params, analyzer);
  // A pinned hash is user input: check it names a snapshot before any cached index is trusted.
  if (corpus.kind === "snapshot") snap.bytes();
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
    if (bytes !== null) {
      // The subject the run's own record names (recordBuiltIndex), built by the same function.
      const subject = rebuildSubject(
        { corpus_snapshot: snap.hash, index_hash: indexHash, ...indexFields },
        indexFormatVersion(bytes),
      );
      index = loadIndex(bytes, options.rebuilds?.agreed(subject) === true);
    }
  }
  // The limit holds for a cached or pinned index too, not only for a fresh build.
  if (index !== null && index.stats.chunks > limits.max_chunks) throw overLimit(index.stats.chunks);
  if (index === null) {
    const docs = snap.documents();
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
    ...indexFields,
    limits: { ...limits },
    documents: index.stats.documents,
    chunks: index.stats.chunks,
    evidence: "sentences",
  };
  const lookup = (docIds: readonly string[]) => snap.texts(docIds);
  return {
    backend: { index, provenance, lookup },
    snapshotHash: snap.hash,
    indexHash: indexHash as string,
    built,
  };
}
