/** Whether a run's pinned BM25 index is the one its parameters build from its pinned snapshot. */
import { canonicalJson } from "../canonical.js";
import { readSnapshot } from "../corpus/document.js";
import type { RetrievalProvenance } from "../models/trace.js";
import { buildIndex } from "../retrieval/bm25-build.js";
import {
  indexFormatVersion,
  serializeIndex,
  WRITABLE_VERSIONS,
  type WritableVersion,
} from "../retrieval/bm25-format.js";
import { Bm25Index, computeBounds } from "../retrieval/bm25-index.js";
import {
  indexBuiltWith,
  indexParamsFromProvenance,
  recordedIndexParams,
  toBm25Params,
} from "../retrieval/index-params.js";

/** The index was built with the recorded parameters over the recorded corpus size. */
export function indexAgrees(index: Bm25Index, p: RetrievalProvenance): boolean {
  return (
    indexBuiltWith(index, recordedIndexParams(p), { id: p.analyzer.name, version: p.analyzer.version }) &&
    index.stats.documents === p.documents &&
    index.stats.chunks === p.chunks
  );
}

/**
 * Snapshots up to this many bytes have their index rebuilt by the default policy (`--policy
 * strict` rebuilds at any size). Rebuilding is deterministic and costs about 0.4 s per MiB of
 * snapshot on one core (bench/verify-rebuild): 64 MiB keeps a default verify under about half a
 * minute while covering every corpus this project ships or evaluates on (SciFact is 7.7 MiB).
 */
export const REBUILD_INDEX_MAX_BYTES = 64 * 1024 * 1024;

/** The pinned index: its bytes as stored (they hash to its recorded hash) and as read. */
export interface PinnedIndex {
  bytes: Uint8Array;
  index: Bm25Index;
}

/**
 * Outcomes of earlier rebuilds in this process, by snapshot hash, index hash and parameters:
 * the store re-hashes what it returns, so the hashes name the exact bytes, and a rebuild is a
 * pure function of them. Bounded, oldest first out.
 */
const rebuilt = new Map<string, boolean>();
const REMEMBERED = 64;

/**
 * Records that this index was just built from this snapshot with these parameters (the
 * producer's own build, in this process), so the sealing verifier does not build it twice.
 */
export function rememberBuiltIndex(p: RetrievalProvenance): void {
  rebuilt.set(rebuildKey(p), true);
}

const rebuildKey = (p: RetrievalProvenance) =>
  canonicalJson([p.corpus_snapshot, p.index_hash, recordedIndexParams(p), p.analyzer]);

/** rebuiltIndexAgrees, remembered per (snapshot, index, parameters). */
export function rebuiltIndexAgreesCached(
  snapshot: Uint8Array,
  pinned: PinnedIndex,
  p: RetrievalProvenance,
): boolean {
  const key = rebuildKey(p);
  let agrees = rebuilt.get(key);
  if (agrees === undefined) {
    agrees = rebuiltIndexAgrees(snapshot, pinned, p);
    if (rebuilt.size >= REMEMBERED) rebuilt.delete(rebuilt.keys().next().value as string);
    rebuilt.set(key, agrees);
  }
  return agrees;
}

/**
 * Rebuilds the index from the snapshot with the recorded parameters and compares it with the
 * pinned one: true when they are the same index. A pinned index in a format this build writes is
 * compared byte for byte, written in that format (no re-serializing or hashing of the pinned
 * bytes); format 1, which is no longer written, is compared in this build's format (it gains its
 * bounds). Throws UnknownAnalyzerError (a CanonError) for an analyzer this build lacks.
 */
export function rebuiltIndexAgrees(
  snapshot: Uint8Array,
  pinned: PinnedIndex,
  p: RetrievalProvenance,
): boolean {
  const docs = [...readSnapshot(snapshot)].map((d) =>
    d.title === undefined
      ? { docId: d.doc_id, text: d.text }
      : { docId: d.doc_id, text: d.text, title: d.title },
  );
  const rebuilt = buildIndex(docs, toBm25Params(indexParamsFromProvenance(p)));
  const format = indexFormatVersion(pinned.bytes);
  if ((WRITABLE_VERSIONS as readonly number[]).includes(format))
    return Buffer.from(serializeIndex(rebuilt, format as WritableVersion)).equals(pinned.bytes);
  const a = pinned.index.arrays;
  const current =
    a.bounds === null
      ? new Bm25Index({ ...a, bounds: computeBounds(a.termOffsets, a.postImpact) })
      : pinned.index;
  return Buffer.from(serializeIndex(rebuilt)).equals(serializeIndex(current));
}
