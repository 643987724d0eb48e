/**
 * The binary format of a Bm25Index. Layout: magic (8 bytes), format version (u32 LE), header
 * length (u32 LE), a JSON header (params, stats, analyzer, section sizes, terms, doc ids), then
 * each typed array, 8-byte aligned so it can be viewed in place on load. Typed arrays are
 * little-endian, which every platform Node supports in practice; the header records it.
 *
 * Format 2 adds the upper bounds pruned search relies on: each term's largest impact and each
 * block's (BLOCK_POSTINGS postings). Format 1 (no bounds) is still read, so a run pinned to
 * such an index verifies and replays: it is searched exhaustively, as it was when recorded.
 * This build writes format 2 only, and the index cache key holds the format, so a cached
 * format-1 index is rebuilt, never reused for a new run.
 *
 * Format 3 compresses the postings (postings-codec.ts): chunk ids delta-encoded and bit-packed
 * in the bounds' blocks of BLOCK_POSTINGS, with each posting's term frequency beside them
 * instead of its float impact, and each chunk's length in terms. Impacts are not quantized:
 * reading recomputes each one from its frequency and its chunk's length with the builder's own
 * expression, so they are bit-identical to the builder's and every score and ranking stays the
 * same as format 2's; the bounds are recomputed from them, so format 3 stores none. Checking it
 * checks the compressed form: block headers, widths and word counts, chunk ids in range, and
 * each chunk's frequencies summing to its stored length, whose mean is the header's average.
 *
 * Index bytes come from the store, which re-hashes them, but a store can be shared or copied:
 * reading treats them as hostile and checks every count and offset search relies on, so a
 * damaged index is a CorruptIndexError, never a RangeError or a silently wrong ranking.
 */
import type { IndexArrays } from "./bm25-arrays.js";
import { checkConsistency } from "./bm25-consistency.js";
import { frequencies, unpackFormat3 } from "./bm25-format3.js";
import { Bm25Index, computeBounds } from "./bm25-index.js";
import {
  CorruptIndexError,
  MAGIC,
  PREFIX_BYTES,
  pad8,
  readHeader,
  readSections,
  type SectionName,
  viewF32,
  viewU32,
  type WritableVersion,
} from "./bm25-layout.js";
import { packPostings } from "./postings-codec.js";

// The container, its checks and format 3's postings have modules of their own; importers find
// the format's public names here, as they always have.
export {
  CorruptIndexError,
  type FormatVersion,
  indexFormatVersion,
  READABLE_VERSIONS,
  WRITABLE_VERSIONS,
  type WritableVersion,
} from "./bm25-layout.js";

/**
 * The format new indexes are written in. Bump when the bytes change meaning; the version is part
 * of every index cache key.
 */
export const INDEX_FORMAT_VERSION: WritableVersion = 2;

const view = (x: ArrayBufferView) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

function sectionsOf(a: IndexArrays, format: WritableVersion): Array<[SectionName, Uint8Array]> {
  if (format === 3) {
    const chunkLen = a.chunkLen;
    if (chunkLen === null) throw new Error("format 3 needs the chunk lengths: write it from a fresh build");
    return [
      ["termOffsets", view(a.termOffsets)],
      ["postPacked", view(packPostings(a.termOffsets, a.postChunk, frequencies(a, chunkLen)))],
      ["chunkLen", view(chunkLen)],
      ["chunkDoc", view(a.chunkDoc)],
      ["chunkStart", view(a.chunkStart)],
      ["chunkEnd", view(a.chunkEnd)],
    ];
  }
  const bounds = a.bounds ?? computeBounds(a.termOffsets, a.postImpact);
  return [
    ["termOffsets", view(a.termOffsets)],
    ["postChunk", view(a.postChunk)],
    ["postImpact", view(a.postImpact)],
    ["termMax", view(bounds.termMax)],
    ["blockMax", view(bounds.blockMax)],
    ["chunkDoc", view(a.chunkDoc)],
    ["chunkStart", view(a.chunkStart)],
    ["chunkEnd", view(a.chunkEnd)],
  ];
}

/** The index's bytes in `format` (this build's INDEX_FORMAT_VERSION unless asked otherwise). */
export function serializeIndex(index: Bm25Index, format: WritableVersion = INDEX_FORMAT_VERSION): Uint8Array {
  const a = index.arrays;
  const sections = sectionsOf(a, format);
  const header = Buffer.from(
    JSON.stringify({
      format,
      endianness: "LE",
      params: a.params,
      stats: a.stats,
      analyzer: a.analyzer,
      sections: sections.map(([name, bytes]) => [name, bytes.byteLength]),
      terms: a.terms.join("\n"),
      docIds: a.docIds,
    }),
    "utf8",
  );
  const prefix = PREFIX_BYTES + header.length;
  let total = prefix + pad8(prefix);
  for (const [, bytes] of sections) total += bytes.byteLength + pad8(bytes.byteLength);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, format, true);
  dv.setUint32(12, header.length, true);
  out.set(header, PREFIX_BYTES);
  let at = prefix + pad8(prefix);
  for (const [, bytes] of sections) {
    out.set(bytes, at);
    at += bytes.byteLength + pad8(bytes.byteLength);
  }
  return out;
}

/**
 * The index these bytes hold, checked (checkConsistency) unless `vouched`: a rebuild record
 * (core/verify/pinned-index.ts) says that this build, given the run's snapshot and parameters,
 * writes exactly these bytes in format 2 or 3, so they hold what the builder's own arrays hold
 * and checking them again proves nothing more. Format 1 is compared after a conversion, so it is
 * always checked, and so are format 3's postings, which are checked as they are unpacked.
 */
export function deserializeIndex(input: Uint8Array, vouched = false): Bm25Index {
  // Typed-array views need aligned offsets; a pooled Buffer may not be, so copy only then.
  const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
  const { header, sectionsAt } = readHeader(bytes);
  const s = readSections(bytes, header, sectionsAt);
  // What every format stores the same way: the header's fields and the chunk tables.
  const shared = {
    params: header.params,
    stats: header.stats,
    analyzer: header.analyzer,
    terms: header.terms === "" ? [] : header.terms.split("\n"),
    docIds: header.docIds,
    chunkDoc: viewU32("chunkDoc", s.chunkDoc),
    chunkStart: viewU32("chunkStart", s.chunkStart),
    chunkEnd: viewU32("chunkEnd", s.chunkEnd),
  };
  if (header.format === 3) {
    const arrays: IndexArrays = { ...shared, ...unpackFormat3(header, s) };
    if (!vouched) checkConsistency(arrays, true);
    return new Bm25Index(arrays);
  }
  const arrays: IndexArrays = {
    ...shared,
    termOffsets: viewU32("termOffsets", s.termOffsets),
    postChunk: viewU32("postChunk", s.postChunk),
    postImpact: viewF32("postImpact", s.postImpact),
    bounds:
      header.format === 1
        ? null
        : { termMax: viewF32("termMax", s.termMax), blockMax: viewF32("blockMax", s.blockMax) },
    chunkLen: null,
  };
  // Format 1's stored chunk ids are checked for size only: hits hash their chunk from the snapshot.
  if (header.format === 1 && s.chunkIds?.byteLength !== arrays.stats.chunks * 32)
    throw new CorruptIndexError("chunkIds does not hold 32 bytes per chunk");
  if (!vouched || header.format === 1) checkConsistency(arrays);
  return new Bm25Index(arrays);
}

/**
 * Indexes already read from these exact bytes. The store hands out bytes it has re-hashed and
 * keeps them, so in one process the producer's retrieval, the verifier's checks and replay all
 * get the same byte array for an index: it is parsed and validated once, not once per reader.
 */
const loadedIndexes = new WeakMap<Uint8Array, Bm25Index>();

/**
 * deserializeIndex, remembered per byte array; throws E_INDEX_CORRUPT like it. `vouched`: only
 * for bytes an authenticated rebuild record names (see deserializeIndex).
 */
export function loadIndex(bytes: Uint8Array, vouched = false): Bm25Index {
  let index = loadedIndexes.get(bytes);
  if (index === undefined) {
    index = deserializeIndex(bytes, vouched);
    loadedIndexes.set(bytes, index);
  }
  return index;
}
