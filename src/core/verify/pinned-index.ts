/** Whether a run's pinned BM25 index is the one its parameters build from its pinned snapshot. */
import { canonicalJson } from "../canonical.js";
import { readSnapshot } from "../corpus/document.js";
import type { RetrievalProvenance } from "../models/trace.js";
import { buildIndex } from "../retrieval/bm25/bm25-build.js";
import {
  INDEX_FORMAT_VERSION,
  indexFormatVersion,
  serializeIndex,
  WRITABLE_VERSIONS,
  type WritableVersion,
} from "../retrieval/bm25/bm25-format.js";
import { Bm25Index, computeBounds } from "../retrieval/bm25/bm25-index.js";
import {
  indexBuiltWith,
  indexParamsFromProvenance,
  type ProvenanceIndexFields,
  type RecordedIndexParams,
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
 * Bumped whenever rebuiltIndexAgrees could give another answer for the same bytes and
 * parameters: every rebuild record made before then stops counting.
 */
export const REBUILD_RULE_VERSION = 1;

/**
 * What a rebuild record vouches for: the recorded parameters and analyzer build, from the
 * snapshot whose bytes hash to `snapshot`, exactly the index whose bytes hash to `index` (in
 * `index_format`). Every field names bytes by their hash, which the store computes as it reads
 * them (StoreReader), so a record can never vouch for other bytes than the ones at hand.
 */
export interface RebuildSubject {
  rule: number;
  snapshot: string;
  index: string;
  index_format: number;
  params: RecordedIndexParams;
  analyzer: { name: string; version: string };
}

/** The subject for a run's pinned index, whose bytes are in `indexFormat`. */
export function rebuildSubject(
  p: ProvenanceIndexFields & Pick<RetrievalProvenance, "corpus_snapshot" | "index_hash">,
  indexFormat: number,
): RebuildSubject {
  return {
    rule: REBUILD_RULE_VERSION,
    snapshot: p.corpus_snapshot,
    index: p.index_hash,
    index_format: indexFormat,
    params: recordedIndexParams(p),
    analyzer: { name: p.analyzer.name, version: p.analyzer.version },
  };
}

/**
 * Records of rebuilds that agreed, kept by whoever runs the verifier (io/index-cache/rebuild-records.ts: an
 * HMAC under a key outside the artifacts dir). The verifier asks before rebuilding and records
 * after a rebuild that agreed; `--policy strict` never asks. Without one, every verification
 * rebuilds (docs/design.md §5, "Rebuild records").
 */
export interface RebuildRecords {
  /** True only when this process, or an authenticated record, saw this rebuild agree. */
  agreed(subject: RebuildSubject): boolean;
  /** This index was just rebuilt (or built) from this snapshot and agreed. */
  record(subject: RebuildSubject): void;
}

/**
 * Records for the sealing verifier of a run whose index of `p` was just built here from its
 * snapshot, in this build's format: the same function of the same bytes a rebuild runs, so a
 * rebuild would agree. They vouch for that index alone and keep nothing: storing the record is
 * the caller's effect, once the run is written (io/index-cache/rebuild-records.ts recordBuiltIndex).
 */
export function builtIndexRecords(p: RetrievalProvenance): RebuildRecords {
  const built = canonicalJson(rebuildSubject(p, INDEX_FORMAT_VERSION));
  return {
    agreed: (subject) => canonicalJson(subject) === built,
    record: () => {},
  };
}

/**
 * Outcomes of the rebuilds this verifier ran in this process, by subject (hashes the store
 * recomputed as it read the bytes, parameters, formats): a rebuild is a pure function of them.
 * Filled only here, by the rebuild itself, so nothing outside the verifier can vouch through it
 * (io's rebuild records do that, authenticated, through CheckContext.rebuilds). Bounded, oldest
 * first out.
 */
const outcomes = new Map<string, boolean>();
const REMEMBERED = 64;

/**
 * rebuiltIndexAgrees, remembered per subject in this process; `fresh` (`--policy strict`)
 * rebuilds even so, and remembers the outcome.
 */
export function rebuiltIndexAgreesRemembered(
  snapshot: Uint8Array,
  pinned: PinnedIndex,
  p: RetrievalProvenance,
  subject: RebuildSubject,
  fresh: boolean,
): boolean {
  const key = canonicalJson(subject);
  const known = fresh ? undefined : outcomes.get(key);
  if (known !== undefined) return known;
  const agrees = rebuiltIndexAgrees(snapshot, pinned, p);
  outcomes.delete(key);
  if (outcomes.size >= REMEMBERED) outcomes.delete(outcomes.keys().next().value as string);
  outcomes.set(key, agrees);
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
