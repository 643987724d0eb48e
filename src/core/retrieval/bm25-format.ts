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
import * as z from "zod";
import { CanonError } from "../errors.js";
import {
  BLOCK_POSTINGS,
  Bm25Index,
  compareStrings,
  computeBounds,
  type IndexArrays,
  impactOf,
  lengthNorm,
} from "./bm25-index.js";
import { packPostings, unpackPostings } from "./postings-codec.js";

/**
 * The format new indexes are written in. Bump when the bytes change meaning; the version is part
 * of every index cache key.
 */
export const INDEX_FORMAT_VERSION: WritableVersion = 2;
/** The versions this build reads: what it writes, and format 1 for runs pinned to such an index. */
export const READABLE_VERSIONS = [1, 2, 3] as const;
export type FormatVersion = (typeof READABLE_VERSIONS)[number];
/** The versions serializeIndex writes: 2 (uncompressed) and 3 (compressed postings). */
export const WRITABLE_VERSIONS = [2, 3] as const;
export type WritableVersion = (typeof WRITABLE_VERSIONS)[number];

export class CorruptIndexError extends CanonError {
  constructor(message: string) {
    super("E_INDEX_CORRUPT", `index is corrupt: ${message}`, { exitCode: 1 });
  }
}

const MAGIC = Buffer.from("CRBM25\0\0", "latin1");
/** Magic, version and header length. */
const PREFIX_BYTES = 16;

const SECTION_NAMES = [
  "termOffsets",
  "postChunk",
  "postImpact",
  "termMax",
  "blockMax",
  "chunkDoc",
  "chunkStart",
  "chunkEnd",
  "chunkIds",
  "postPacked",
  "chunkLen",
] as const;
type SectionName = (typeof SECTION_NAMES)[number];
/**
 * The sections of each format, in file order. Format 1 stored each chunk's sha256 (chunkIds);
 * format 2 does not: a hit's chunk id is hashed from the snapshot bytes at its span when the
 * hit is shown, which spares the build a hash per chunk and the index 32 bytes per chunk.
 */
const SECTIONS_OF: Record<FormatVersion, readonly SectionName[]> = {
  1: ["termOffsets", "postChunk", "postImpact", "chunkDoc", "chunkStart", "chunkEnd", "chunkIds"],
  2: ["termOffsets", "postChunk", "postImpact", "termMax", "blockMax", "chunkDoc", "chunkStart", "chunkEnd"],
  3: ["termOffsets", "postPacked", "chunkLen", "chunkDoc", "chunkStart", "chunkEnd"],
};

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

/**
 * Each posting's term frequency, found from its impact: the smallest f whose impact, computed
 * as the builder computes it, rounds to the same float32 (impacts grow with f, so any f that
 * gives the stored impact gives every score the same). An estimate from the inverse formula
 * is tried first; a binary search over f settles the rest.
 */
function frequencies(a: IndexArrays, chunkLen: Uint32Array): (p: number) => number {
  const { k1, b } = a.params;
  const avg = a.stats.avgChunkLen;
  const { postChunk, postImpact } = a;
  return (p) => {
    const c = postChunk[p] as number;
    const v = postImpact[p] as number;
    const len = chunkLen[c] as number;
    const norm = lengthNorm(k1, b, len, avg);
    const guess = Math.round((v * norm) / (k1 + 1 - v));
    if (guess >= 1 && guess <= len && Math.fround(impactOf(guess, k1, norm)) === v) return guess;
    let lo = 1;
    let hi = Math.max(1, len);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (Math.fround(impactOf(mid, k1, norm)) < v) lo = mid + 1;
      else hi = mid;
    }
    if (Math.fround(impactOf(lo, k1, norm)) !== v)
      throw new Error(`posting ${p}'s impact ${v} is no term frequency's: not a fresh build`);
    return lo;
  };
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

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

const Count = z.int().min(0);
const Header = z.strictObject({
  format: z.union(READABLE_VERSIONS.map((v) => z.literal(v))),
  endianness: z.literal("LE"),
  params: z
    .strictObject({
      // z.number() is finite: NaN or Infinity would turn every score into NaN.
      k1: z.number(),
      b: z.number(),
      chunkChars: z.int().min(1),
      overlapChars: Count,
      analyzer: z.enum(["simple", "english"]),
      titles: z.boolean(),
    })
    .refine((p) => p.overlapChars < p.chunkChars, "overlapChars is not below chunkChars"),
  stats: z.strictObject({
    documents: Count,
    chunks: Count,
    terms: Count,
    postings: Count,
    avgChunkLen: z.number().min(0),
    textBytes: Count,
  }),
  analyzer: z.strictObject({ id: z.string(), version: z.string() }),
  sections: z.array(z.tuple([z.string(), Count])),
  terms: z.string(),
  docIds: z.array(z.string()),
});
type Header = z.infer<typeof Header>;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The format version an index's bytes declare (read, not checked), or 0 when they are not an index. */
export function indexFormatVersion(bytes: Uint8Array): number {
  if (bytes.byteLength < PREFIX_BYTES || !Buffer.from(bytes.subarray(0, 8)).equals(MAGIC)) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
}

/** The fixed prefix and the JSON header; returns the header and where the sections begin. */
function readHeader(bytes: Uint8Array): { header: Header; sectionsAt: number } {
  if (bytes.byteLength < PREFIX_BYTES || !Buffer.from(bytes.subarray(0, 8)).equals(MAGIC))
    throw new CorruptIndexError("bad magic number");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (!READABLE_VERSIONS.some((v) => v === version))
    throw new CorruptIndexError(
      `format version ${version}, but this build reads versions ${READABLE_VERSIONS.slice(0, -1).join(", ")} and ${READABLE_VERSIONS.at(-1)} only: rebuild the index`,
    );
  const headerLength = dv.getUint32(12, true);
  if (PREFIX_BYTES + headerLength > bytes.byteLength) throw new CorruptIndexError("truncated header");
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)));
  } catch {
    throw new CorruptIndexError("unreadable header");
  }
  const parsed = Header.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptIndexError(`bad header field ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  if (parsed.data.format !== version) throw new CorruptIndexError("the header's format is not the prefix's");
  const names = SECTIONS_OF[parsed.data.format];
  if (
    parsed.data.sections.length !== names.length ||
    !parsed.data.sections.every(([name], i) => name === names[i])
  )
    throw new CorruptIndexError(`sections are not ${names.join(", ")}`);
  const prefix = PREFIX_BYTES + headerLength;
  return { header: parsed.data, sectionsAt: prefix + pad8(prefix) };
}

/** Views each declared section in place; the declared lengths must cover the bytes exactly. */
function readSections(
  bytes: Uint8Array,
  header: Header,
  sectionsAt: number,
): Partial<Record<SectionName, Uint8Array>> {
  let end = sectionsAt;
  for (const [, length] of header.sections) end += length + pad8(length);
  if (end !== bytes.byteLength)
    throw new CorruptIndexError(`sections declare ${end} bytes in all, the index has ${bytes.byteLength}`);
  const found: Partial<Record<SectionName, Uint8Array>> = {};
  let at = sectionsAt;
  for (const [name, length] of header.sections) {
    found[name as SectionName] = bytes.subarray(at, at + length);
    at += length + pad8(length);
  }
  return found;
}

function viewU32(name: SectionName, s: Uint8Array | undefined): Uint32Array {
  if (s === undefined) throw new CorruptIndexError(`section ${name} is missing`);
  if (s.byteLength % 4 !== 0) throw new CorruptIndexError(`section ${name} is not a whole number of u32`);
  return new Uint32Array(s.buffer, s.byteOffset, s.byteLength / 4);
}

function viewF32(name: SectionName, s: Uint8Array | undefined): Float32Array {
  if (s === undefined) throw new CorruptIndexError(`section ${name} is missing`);
  if (s.byteLength % 4 !== 0) throw new CorruptIndexError(`section ${name} is not a whole number of f32`);
  return new Float32Array(s.buffer, s.byteOffset, s.byteLength / 4);
}

/**
 * Every count agrees with its array, and every offset and id search follows stays in bounds.
 * Format 2 also promises what pruning relies on: the parameters keep every impact positive
 * (k1 >= 0, 0 <= b <= 1), every impact is, and each stored bound is exactly the maximum it
 * names; a bound too low would silently drop a chunk from the top-k.
 */
function checkConsistency(a: IndexArrays, postingsChecked = false): void {
  const { chunks, documents, postings, terms } = a.stats;
  const fail = (what: string) => {
    throw new CorruptIndexError(what);
  };
  if (a.terms.length !== terms) fail(`${a.terms.length} terms, the header says ${terms}`);
  if (a.docIds.length !== documents) fail(`${a.docIds.length} doc ids, the header says ${documents}`);
  if (a.termOffsets.length !== terms + 1) fail("termOffsets does not hold one offset per term plus one");
  if (a.postChunk.length !== postings || a.postImpact.length !== postings)
    fail(`postings sections disagree with the header's ${postings} postings`);
  if (a.chunkDoc.length !== chunks || a.chunkStart.length !== chunks || a.chunkEnd.length !== chunks)
    fail(`chunk sections disagree with the header's ${chunks} chunks`);
  // Sorted and unique: a term's id is its position, and search looks terms up by value.
  for (let t = 1; t < a.terms.length; t++)
    if (compareStrings(a.terms[t - 1] as string, a.terms[t] as string) >= 0)
      fail("terms are not sorted and unique");
  if (new Set(a.docIds).size !== a.docIds.length) fail("duplicate doc ids");
  if (a.termOffsets[0] !== 0 || a.termOffsets[terms] !== postings)
    fail("termOffsets do not span the postings");
  const bounded = a.bounds !== null;
  if (bounded) {
    const { k1, b } = a.params;
    if (!(k1 >= 0 && b >= 0 && b <= 1)) fail(`k1 ${k1} and b ${b} do not keep impacts positive`);
  }
  const { termOffsets, postChunk, postImpact, bounds } = a;
  const blocks = Math.ceil(postings / BLOCK_POSTINGS);
  if (bounds !== null && (bounds.termMax.length !== terms || bounds.blockMax.length !== blocks))
    fail("the bounds sections do not hold one bound per term and per block");
  // Format 1 only promises finite impacts; format 2 positive ones, which its bounds rely on.
  // Format 3's postings were checked as they were unpacked, and its impacts and bounds computed.
  const above = bounded ? 0 : Number.NEGATIVE_INFINITY;
  for (let t = 0; t < terms && !postingsChecked; t++) {
    const start = termOffsets[t] as number;
    const end = termOffsets[t + 1] as number;
    if (end < start) fail("termOffsets are not monotone");
    const bad = firstBadPosting(postChunk, postImpact, start, end, chunks, above);
    if (bad >= 0) {
      const c = postChunk[bad] as number;
      const previous = bad > start ? (postChunk[bad - 1] as number) : -1;
      fail(
        c <= previous || c >= chunks
          ? `posting ${bad} names chunk ${c}`
          : `posting ${bad} has impact ${postImpact[bad]}`,
      );
    }
    if (bounds !== null && largestImpact(postImpact, start, end) !== bounds.termMax[t])
      fail(`term ${t}'s bound is not its largest impact`);
  }
  // Each block's bound is the largest impact among its postings, whichever terms they belong to.
  if (bounds !== null && !postingsChecked)
    for (let i = 0; i < blocks; i++) {
      const from = i * BLOCK_POSTINGS;
      if (largestImpact(postImpact, from, Math.min(postings, from + BLOCK_POSTINGS)) !== bounds.blockMax[i])
        fail(`block ${i}'s bound is not its largest impact`);
    }
  for (let c = 0; c < chunks; c++) {
    if ((a.chunkDoc[c] as number) >= documents) fail(`chunk ${c} names document ${a.chunkDoc[c]}`);
    if ((a.chunkStart[c] as number) > (a.chunkEnd[c] as number)) fail(`chunk ${c} ends before it starts`);
  }
}

/*
 * The postings loops are small functions of their own, called once per term and per block, so
 * V8 optimizes them after a few hundred calls. A command loads an index once: the same loop
 * inlined in checkConsistency runs mostly unoptimized, about 4x slower on SciFact's 735k postings.
 */

/**
 * The first posting of [start, end) that is out of order (a term's postings name distinct chunks
 * in increasing order), names no chunk, or has an impact that is not finite and above `above`;
 * -1 when there is none.
 */
function firstBadPosting(
  postChunk: Uint32Array,
  postImpact: Float32Array,
  start: number,
  end: number,
  chunks: number,
  above: number,
): number {
  let previous = -1;
  for (let p = start; p < end; p++) {
    const c = postChunk[p] as number;
    const v = postImpact[p] as number;
    if (c <= previous || c >= chunks || !(v > above && v < Number.POSITIVE_INFINITY)) return p;
    previous = c;
  }
  return -1;
}

/** The largest impact in [from, to); 0 when it is empty (format 2's impacts are positive). */
function largestImpact(postImpact: Float32Array, from: number, to: number): number {
  let max = 0;
  for (let p = from; p < to; p++) {
    const v = postImpact[p] as number;
    if (v > max) max = v;
  }
  return max;
}

/**
 * Format 3's postings, unpacked and checked: chunk ids in range and increasing per term (the
 * codec), each chunk's frequencies summing to its stored length, those lengths averaging to the
 * header's average exactly; then each impact recomputed as the builder computes it, and the
 * bounds from the impacts.
 */
function unpackFormat3(
  header: Header,
  s: Partial<Record<SectionName, Uint8Array>>,
): Pick<IndexArrays, "termOffsets" | "postChunk" | "postImpact" | "bounds" | "chunkLen"> {
  const { chunks, postings, terms } = header.stats;
  const termOffsets = viewU32("termOffsets", s.termOffsets);
  const chunkLen = viewU32("chunkLen", s.chunkLen);
  const packed = viewU32("postPacked", s.postPacked);
  if (termOffsets.length !== terms + 1)
    throw new CorruptIndexError("termOffsets does not hold one offset per term plus one");
  if (termOffsets[0] !== 0 || termOffsets[terms] !== postings)
    throw new CorruptIndexError("termOffsets do not span the postings");
  for (let t = 0; t < terms; t++)
    if ((termOffsets[t + 1] as number) < (termOffsets[t] as number))
      throw new CorruptIndexError("termOffsets are not monotone");
  if (chunkLen.length !== chunks)
    throw new CorruptIndexError(`chunkLen does not hold the header's ${chunks} chunks`);
  const postChunk = new Uint32Array(postings);
  const postTf = new Uint32Array(postings);
  const bad = unpackPostings(packed, termOffsets, chunks, postChunk, postTf);
  if (bad !== null) throw new CorruptIndexError(bad);
  // Per block of postings and per chunk, in small functions V8 optimizes after a few calls (a
  // command reads an index once: a loop over every posting in one call would run unoptimized).
  const tfSum = new Float64Array(chunks);
  for (let from = 0; from < postings; from += BLOCK_POSTINGS) {
    const zero = addFrequencies(postChunk, postTf, from, Math.min(postings, from + BLOCK_POSTINGS), tfSum);
    if (zero >= 0) throw new CorruptIndexError(`posting ${zero} has term frequency 2^32`);
  }
  let total = 0;
  for (let from = 0; from < chunks; from += BLOCK_POSTINGS) {
    const to = Math.min(chunks, from + BLOCK_POSTINGS);
    const wrong = firstWrongLength(tfSum, chunkLen, from, to);
    if (wrong >= 0) throw new CorruptIndexError(`chunk ${wrong}'s term frequencies do not sum to its length`);
    total += sumOf(chunkLen, from, to);
  }
  const avg = chunks === 0 ? 0 : total / chunks;
  if (avg !== header.stats.avgChunkLen)
    throw new CorruptIndexError("the chunk lengths do not average to avgChunkLen");
  const { k1, b } = header.params;
  if (!(k1 >= 0 && b >= 0 && b <= 1))
    throw new CorruptIndexError(`k1 ${k1} and b ${b} do not keep impacts positive`);
  const norm = new Float64Array(chunks);
  for (let from = 0; from < chunks; from += BLOCK_POSTINGS)
    fillNorms(norm, chunkLen, from, Math.min(chunks, from + BLOCK_POSTINGS), k1, b, avg);
  const postImpact = new Float32Array(postings);
  const blockMax = new Float32Array(Math.ceil(postings / BLOCK_POSTINGS));
  for (let from = 0, block = 0; from < postings; from += BLOCK_POSTINGS, block++)
    blockMax[block] = fillImpacts(
      postImpact,
      postTf,
      postChunk,
      norm,
      k1,
      from,
      Math.min(postings, from + BLOCK_POSTINGS),
    );
  const termMax = new Float32Array(terms);
  for (let t = 0; t < terms; t++)
    termMax[t] = largestImpact(postImpact, termOffsets[t] as number, termOffsets[t + 1] as number);
  return { termOffsets, postChunk, postImpact, bounds: { termMax, blockMax }, chunkLen };
}

/** Adds each posting's frequency to its chunk's sum; returns the first posting whose frequency wrapped to 0, or -1. */
function addFrequencies(
  postChunk: Uint32Array,
  postTf: Uint32Array,
  from: number,
  to: number,
  tfSum: Float64Array,
): number {
  for (let p = from; p < to; p++) {
    const c = postChunk[p] as number;
    const tf = postTf[p] as number;
    if (tf === 0) return p;
    tfSum[c] = (tfSum[c] as number) + tf;
  }
  return -1;
}

function firstWrongLength(tfSum: Float64Array, chunkLen: Uint32Array, from: number, to: number): number {
  for (let c = from; c < to; c++) if (tfSum[c] !== chunkLen[c]) return c;
  return -1;
}

function sumOf(values: Uint32Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i] as number;
  return sum;
}

function fillNorms(
  norm: Float64Array,
  chunkLen: Uint32Array,
  from: number,
  to: number,
  k1: number,
  b: number,
  avg: number,
): void {
  for (let c = from; c < to; c++) norm[c] = lengthNorm(k1, b, chunkLen[c] as number, avg);
}

/** Each posting's impact as the builder computes it; returns the largest (the block's bound). */
function fillImpacts(
  postImpact: Float32Array,
  postTf: Uint32Array,
  postChunk: Uint32Array,
  norm: Float64Array,
  k1: number,
  from: number,
  to: number,
): number {
  let max = 0;
  for (let p = from; p < to; p++) {
    postImpact[p] = impactOf(postTf[p] as number, k1, norm[postChunk[p] as number] as number);
    const v = postImpact[p] as number;
    if (v > max) max = v;
  }
  return max;
}

export function deserializeIndex(input: Uint8Array): Bm25Index {
  // Typed-array views need aligned offsets; a pooled Buffer may not be, so copy only then.
  const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
  const { header, sectionsAt } = readHeader(bytes);
  const s = readSections(bytes, header, sectionsAt);
  if (header.format === 3) {
    const arrays: IndexArrays = {
      params: header.params,
      stats: header.stats,
      analyzer: header.analyzer,
      terms: header.terms === "" ? [] : header.terms.split("\n"),
      docIds: header.docIds,
      ...unpackFormat3(header, s),
      chunkDoc: viewU32("chunkDoc", s.chunkDoc),
      chunkStart: viewU32("chunkStart", s.chunkStart),
      chunkEnd: viewU32("chunkEnd", s.chunkEnd),
    };
    checkConsistency(arrays, true);
    return new Bm25Index(arrays);
  }
  const arrays: IndexArrays = {
    params: header.params,
    stats: header.stats,
    analyzer: header.analyzer,
    terms: header.terms === "" ? [] : header.terms.split("\n"),
    docIds: header.docIds,
    termOffsets: viewU32("termOffsets", s.termOffsets),
    postChunk: viewU32("postChunk", s.postChunk),
    postImpact: viewF32("postImpact", s.postImpact),
    bounds:
      header.format === 1
        ? null
        : { termMax: viewF32("termMax", s.termMax), blockMax: viewF32("blockMax", s.blockMax) },
    chunkDoc: viewU32("chunkDoc", s.chunkDoc),
    chunkStart: viewU32("chunkStart", s.chunkStart),
    chunkEnd: viewU32("chunkEnd", s.chunkEnd),
    chunkLen: null,
  };
  // Format 1's stored chunk ids are checked for size only: hits hash their chunk from the snapshot.
  if (header.format === 1 && s.chunkIds?.byteLength !== arrays.stats.chunks * 32)
    throw new CorruptIndexError("chunkIds does not hold 32 bytes per chunk");
  checkConsistency(arrays);
  return new Bm25Index(arrays);
}

/**
 * Indexes already read from these exact bytes. The store hands out bytes it has re-hashed and
 * keeps them, so in one process the producer's retrieval, the verifier's checks and replay all
 * get the same byte array for an index: it is parsed and validated once, not once per reader.
 */
const loadedIndexes = new WeakMap<Uint8Array, Bm25Index>();

/** deserializeIndex, remembered per byte array; throws E_INDEX_CORRUPT like it. */
export function loadIndex(bytes: Uint8Array): Bm25Index {
  let index = loadedIndexes.get(bytes);
  if (index === undefined) {
    index = deserializeIndex(bytes);
    loadedIndexes.set(bytes, index);
  }
  return index;
}
