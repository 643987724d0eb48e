/**
 * Corpora into the store: a corpus file uploaded to the service, snapshotted and named by its
 * hash (`POST /v1/corpora`), and an index built ahead of any run (`canon-reason index`). Both
 * read with the same reader and limits as a run's corpus, and cache what they make in the store.
 */
import { join, resolve } from "node:path";
import { parseCorpusRef } from "../../core/corpus/corpus-ref.js";
import { PRESETS } from "../../core/plan/planner.js";
import { type IndexParams, pickIndexParams } from "../../core/retrieval/index-params.js";
import { type CorpusLimits, DEFAULT_LIMITS } from "../../io/corpus/corpus-reader.js";
import { loadSnapshot, snapshotCorpus } from "../../io/corpus/corpus-snapshot.js";
import { type Progress, prepareRetrieval } from "../../io/index-cache/index-cache.js";
import { localRebuildRecords, recordBuiltIndex } from "../../io/index-cache/rebuild-records.js";
import { tempSuffix } from "../../io/runs/run-writer.js";
import { inArtifactsDir } from "../../io/store/artifacts.js";
import { DiskStore } from "../../io/store/content-store.js";
import { uploadsRoot } from "../../io/store/debris.js";

export { sweepUploadDebris, uploadsRoot } from "../../io/store/debris.js";

/** The index parameters of the default preset: `canon-reason index`'s defaults. */
export const DEFAULT_INDEX_PARAMS: IndexParams = pickIndexParams(
  PRESETS.default as NonNullable<(typeof PRESETS)["default"]>,
);

/** A fresh staging folder for one upload, under the artifacts root's `uploads/` (swept at start when its process is gone). */
export function uploadStagingDir(artifactsRoot: string): string {
  return join(uploadsRoot(artifactsRoot), `.tmp-upload-${tempSuffix()}`);
}

/** Snapshots an uploaded corpus file into the store: its `sha256:` name and how many documents it holds. */
export async function snapshotUpload(
  artifactsRoot: string,
  file: string,
): Promise<{ corpus: string; documents: number }> {
  const store = new DiskStore(artifactsRoot);
  const snapshot = await snapshotCorpus(store, file, DEFAULT_LIMITS);
  // A corpus uploaded before is not parsed again: its snapshot has one line per document.
  const documents =
    snapshot.documents?.length ??
    Buffer.from(store.get(snapshot.hash) ?? new Uint8Array()).reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
  return { corpus: `sha256:${snapshot.hash}`, documents };
}

/**
 * An eval's corpus as a snapshot in the store under `artifactsRoot`, snapshotted (not indexed)
 * when it is a path: its hash and bytes, to share with queue workers. A pinned `sha256:` corpus
 * is checked to name a snapshot the store holds.
 */
export async function corpusSnapshot(
  artifactsRoot: string,
  corpus: string,
): Promise<{ hash: string; bytes: Uint8Array }> {
  const store = new DiskStore(artifactsRoot);
  const ref = parseCorpusRef(corpus);
  const hash =
    ref.kind === "snapshot" ? ref.hash : (await snapshotCorpus(store, ref.path, DEFAULT_LIMITS)).hash;
  return { hash, bytes: loadSnapshot(store, hash) };
}

/** Whether the store under `artifactsRoot` holds this object (a `sha256:` corpus a request names). */
export function storeHas(artifactsRoot: string, hash: string): boolean {
  return new DiskStore(artifactsRoot).has(hash);
}

export interface BuildIndexRequest {
  artifactsRoot: string;
  /** The corpus path, relative to the working directory. */
  path: string;
  params: IndexParams;
  limits?: CorpusLimits;
  threads: number;
  progress?: Progress | undefined;
}

/** Snapshots the corpus and builds (or finds cached) its index with these parameters. */
export async function buildIndex(request: BuildIndexRequest) {
  const root = request.artifactsRoot;
  const prepared = await inArtifactsDir(root, () =>
    prepareRetrieval(
      new DiskStore(root),
      parseCorpusRef(resolve(request.path)),
      request.params,
      request.limits ?? DEFAULT_LIMITS,
      request.progress,
      { threads: request.threads },
    ),
  );
  // A run or verify of this index then trusts this build instead of rebuilding it.
  if (prepared.built) recordBuiltIndex(localRebuildRecords(), prepared.backend.provenance);
  const stats = prepared.backend.index.stats;
  return {
    corpus_snapshot: `sha256:${prepared.snapshotHash}`,
    index_hash: `sha256:${prepared.indexHash}`,
    cached: !prepared.built,
    documents: stats.documents,
    chunks: stats.chunks,
    terms: stats.terms,
    postings: stats.postings,
    params: prepared.backend.provenance,
  };
}
