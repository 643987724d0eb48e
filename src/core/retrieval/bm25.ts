/**
 * Okapi BM25 over chunks (SPEC §3.3), built for a million chunks: postings live in typed
 * arrays in CSR layout (one offsets array, one chunk array, one impact array), never as an
 * object per term per document. Each posting stores its precomputed BM25 term-frequency
 * factor, so a query is one multiply-add per posting. Term ids are assigned in sorted term
 * order after the build, so the serialized bytes depend only on the input, not on Map order.
 */
import { createHash } from "node:crypto";
import { CanonError } from "../errors.js";
import { getAnalyzer } from "./analyzer.js";
import { chunkDocument, validateChunkOptions } from "./chunker.js";
import { WordTable } from "./word-table.js";

export const INDEX_FORMAT_VERSION = 1;
const EMPTY = new Int32Array(0);

export interface Bm25Params {
  k1: number;
  b: number;
  chunkChars: number;
  overlapChars: number;
  analyzer: "simple" | "english";
  /** Index each document's title words with every one of its chunks (BEIR-style title field). */
  titles: boolean;
}

export interface IndexDocument {
  docId: string;
  text: string;
  title?: string;
}

export interface SearchHit {
  chunk: number;
  docId: string;
  /** UTF-8 byte span of the chunk inside its document. */
  start: number;
  end: number;
  chunkId: string;
  score: number;
}

/** What `Bm25Index.termStats` returns; recorded in the retrieve payload as `term_stats`. */
export interface TermStats {
  chunks: number;
  avg_chunk_len: number;
  df: Record<string, number>;
}

export interface IndexStats {
  documents: number;
  chunks: number;
  terms: number;
  postings: number;
  avgChunkLen: number;
  textBytes: number;
}

export class CorruptIndexError extends CanonError {
  constructor(message: string) {
    super("E_INDEX_CORRUPT", `index is corrupt: ${message}`, { exitCode: 1 });
  }
}

/** A growable Uint32Array: amortised O(1) append without one JS number object per value. */
class U32Builder {
  data = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  finish(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

interface IndexArrays {
  params: Bm25Params;
  stats: IndexStats;
  analyzer: { id: string; version: string };
  /** Sorted by code unit; a term's id is its position. */
  terms: string[];
  docIds: string[];
  termOffsets: Uint32Array;
  postChunk: Uint32Array;
  postImpact: Float32Array;
  chunkDoc: Uint32Array;
  chunkStart: Uint32Array;
  chunkEnd: Uint32Array;
  chunkIds: Uint8Array;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class Bm25Index {
  readonly params: Bm25Params;
  readonly stats: IndexStats;
  readonly arrays: IndexArrays;
  private termIds: Map<string, number> | null = null;
  private idf: Float64Array | null = null;
  private scores: Float64Array | null = null;
  /** Chunks with a non-zero score in the current query; allocated once, reused by every query. */
  private touched: Uint32Array | null = null;

  constructor(arrays: IndexArrays) {
    this.arrays = arrays;
    this.params = arrays.params;
    this.stats = arrays.stats;
  }

  chunkId(chunk: number): string {
    return Buffer.from(this.arrays.chunkIds.subarray(chunk * 32, chunk * 32 + 32)).toString("hex");
  }

  private prepare(): {
    termIds: Map<string, number>;
    idf: Float64Array;
    scores: Float64Array;
    touched: Uint32Array;
  } {
    if (this.termIds === null || this.idf === null || this.scores === null || this.touched === null) {
      const { terms, termOffsets } = this.arrays;
      this.termIds = new Map(terms.map((t, i) => [t, i]));
      const n = this.stats.chunks;
      this.idf = new Float64Array(terms.length);
      for (let t = 0; t < terms.length; t++) {
        const df = (termOffsets[t + 1] as number) - (termOffsets[t] as number);
        // Lucene's BM25 idf: never negative, so a very common term cannot lower a score.
        this.idf[t] = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      }
      this.scores = new Float64Array(n);
      this.touched = new Uint32Array(n);
    }
    return { termIds: this.termIds, idf: this.idf, scores: this.scores, touched: this.touched };
  }

  /**
   * The corpus statistics BM25 weighs these terms by: the number of chunks, their average
   * length in terms, and each term's document frequency in chunks (0 when not indexed). The
   * retrieve tool records them so the reasoner can weigh words without the index (SPEC §3.4).
   */
  termStats(terms: readonly string[]): TermStats {
    const { termIds } = this.prepare();
    const { termOffsets } = this.arrays;
    const df: Record<string, number> = {};
    for (const term of terms) {
      const t = termIds.get(term);
      df[term] = t === undefined ? 0 : (termOffsets[t + 1] as number) - (termOffsets[t] as number);
    }
    return { chunks: this.stats.chunks, avg_chunk_len: Math.round(this.stats.avgChunkLen * 1e6) / 1e6, df };
  }

  /**
   * Top-k chunks by BM25 score. Ranking: score descending, then doc id, then chunk start
   * (SPEC §3.3), so equal scores order the same way on every machine. Scores are summed in
   * query-term order, so the same query always adds the same floats in the same order.
   */
  search(query: string, topK: number): SearchHit[] {
    const { termIds, idf, scores, touched } = this.prepare();
    const { termOffsets, postChunk, postImpact, chunkDoc, chunkStart, docIds } = this.arrays;
    const analyzer = getAnalyzer(this.params.analyzer);
    let nTouched = 0;
    for (const term of new Set(analyzer.tokenize(query))) {
      const t = termIds.get(term);
      if (t === undefined) continue;
      const w = idf[t] as number;
      const end = termOffsets[t + 1] as number;
      for (let p = termOffsets[t] as number; p < end; p++) {
        const c = postChunk[p] as number;
        if (scores[c] === 0) touched[nTouched++] = c;
        scores[c] = (scores[c] as number) + w * (postImpact[p] as number);
      }
    }
    // Bounded heap of the k best, worst on top: O(touched * log k), not a sort of all matches.
    const better = (a: number, b: number): boolean => {
      const sa = scores[a] as number;
      const sb = scores[b] as number;
      if (sa !== sb) return sa > sb;
      const da = chunkDoc[a] as number;
      const db = chunkDoc[b] as number;
      if (da !== db) return compareStrings(docIds[da] as string, docIds[db] as string) < 0;
      return (chunkStart[a] as number) < (chunkStart[b] as number);
    };
    const heap: number[] = [];
    const siftDown = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let worst = i;
        if (l < heap.length && better(heap[worst] as number, heap[l] as number)) worst = l;
        if (r < heap.length && better(heap[worst] as number, heap[r] as number)) worst = r;
        if (worst === i) return;
        [heap[i], heap[worst]] = [heap[worst] as number, heap[i] as number];
        i = worst;
      }
    };
    const siftUp = (i: number) => {
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!better(heap[parent] as number, heap[i] as number)) return;
        [heap[i], heap[parent]] = [heap[parent] as number, heap[i] as number];
        i = parent;
      }
    };
    const k = Math.max(0, Math.floor(topK));
    for (let i = 0; i < nTouched; i++) {
      const c = touched[i] as number;
      if (heap.length < k) {
        heap.push(c);
        siftUp(heap.length - 1);
      } else if (k > 0 && better(c, heap[0] as number)) {
        heap[0] = c;
        siftDown(0);
      }
    }
    const ranked = heap.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
    const hits = ranked.map((c) => ({
      chunk: c,
      docId: docIds[chunkDoc[c] as number] as string,
      start: chunkStart[c] as number,
      end: this.arrays.chunkEnd[c] as number,
      chunkId: this.chunkId(c),
      score: Math.round((scores[c] as number) * 1e6) / 1e6,
    }));
    for (let i = 0; i < nTouched; i++) scores[touched[i] as number] = 0;
    return hits;
  }
}

export function buildIndex(
  docs: Iterable<IndexDocument>,
  params: Bm25Params,
  onProgress?: (bytesDone: number) => void,
): Bm25Index {
  validateChunkOptions(params);
  const analyzer = getAnalyzer(params.analyzer);
  // Word -> provisional term id (-1: not indexed), without a string per word: the hot loop.
  const termIds = new Map<string, number>();
  const provisionalTerms: string[] = [];
  const postTerm = new U32Builder();
  const postTf = new U32Builder();
  const chunkPostEnd = new U32Builder();
  const chunkDoc = new U32Builder();
  const chunkStart = new U32Builder();
  const chunkEnd = new U32Builder();
  const chunkLen = new U32Builder();
  let chunkIds = new Uint8Array(32 * 1024);
  const docIds: string[] = [];
  const seen = new Set<string>();
  let textBytes = 0;
  let totalLen = 0;
  // Term frequency counting without a Map: a count per term id plus the list of ids touched.
  let tfCount = new Uint32Array(1024);
  const chunkTerms = new U32Builder();

  const words = new WordTable((word) => {
    const term = analyzer.term(word);
    if (term === null) return -1;
    let id = termIds.get(term);
    if (id === undefined) {
      id = provisionalTerms.length;
      termIds.set(term, id);
      provisionalTerms.push(term);
      if (id >= tfCount.length) {
        const grown = new Uint32Array(tfCount.length * 2);
        grown.set(tfCount);
        tfCount = grown;
      }
    }
    return id;
  });

  for (const doc of docs) {
    if (seen.has(doc.docId))
      throw new CanonError("E_CORPUS_DUPLICATE", `duplicate doc_id ${JSON.stringify(doc.docId)}`);
    seen.add(doc.docId);
    const docOrdinal = docIds.length;
    docIds.push(doc.docId);
    const bytes = Buffer.from(doc.text, "utf8");
    textBytes += bytes.length;
    // Tokenize the document once; a chunk's terms are the words lying wholly inside its window.
    // Title words count in every chunk of the document: a chunk is about what its document is about.
    const titleTerms = params.titles && doc.title ? words.wordValue.slice(0, words.scan(doc.title)) : EMPTY;
    const count = words.scan(doc.text);
    const { wordStart, wordEnd, wordValue: wordTerm } = words;
    let first = 0;
    for (const span of chunkDocument(doc.text, params)) {
      const at = chunkDoc.length * 32;
      if (at + 32 > chunkIds.length) {
        const grown = new Uint8Array(chunkIds.length * 2);
        grown.set(chunkIds);
        chunkIds = grown;
      }
      chunkIds.set(createHash("sha256").update(bytes.subarray(span.start, span.end)).digest(), at);
      while (first < count && (wordStart[first] as number) < span.textStart) first++;
      chunkTerms.length = 0;
      let length = 0;
      for (let w = first; w < count && (wordStart[w] as number) < span.textEnd; w++) {
        if ((wordEnd[w] as number) > span.textEnd) continue;
        const t = wordTerm[w] as number;
        if (tfCount[t] === 0) chunkTerms.push(t);
        tfCount[t] = (tfCount[t] as number) + 1;
        length++;
      }
      for (let i = 0; i < titleTerms.length; i++) {
        const t = titleTerms[i] as number;
        if (tfCount[t] === 0) chunkTerms.push(t);
        tfCount[t] = (tfCount[t] as number) + 1;
        length++;
      }
      for (let i = 0; i < chunkTerms.length; i++) {
        const t = chunkTerms.data[i] as number;
        postTerm.push(t);
        postTf.push(tfCount[t] as number);
        tfCount[t] = 0;
      }
      chunkPostEnd.push(postTerm.length);
      chunkDoc.push(docOrdinal);
      chunkStart.push(span.start);
      chunkEnd.push(span.end);
      chunkLen.push(length);
      totalLen += length;
    }
    onProgress?.(textBytes);
  }

  // Final term ids follow sorted term order: the index bytes must not depend on insertion order.
  const order = provisionalTerms
    .map((_, i) => i)
    .sort((a, b) => compareStrings(provisionalTerms[a] as string, provisionalTerms[b] as string));
  const remap = new Uint32Array(order.length);
  order.forEach((oldId, newId) => {
    remap[oldId] = newId;
  });
  const terms = order.map((i) => provisionalTerms[i] as string);
  const nPostings = postTerm.length;
  const nChunks = chunkDoc.length;
  const termOffsets = new Uint32Array(terms.length + 1);
  for (let p = 0; p < nPostings; p++) {
    const t = remap[postTerm.data[p] as number] as number;
    termOffsets[t + 1] = (termOffsets[t + 1] as number) + 1;
  }
  for (let t = 0; t < terms.length; t++)
    termOffsets[t + 1] = (termOffsets[t + 1] as number) + (termOffsets[t] as number);
  const cursor = termOffsets.slice(0, terms.length);
  const postChunk = new Uint32Array(nPostings);
  const postImpact = new Float32Array(nPostings);
  const avgLen = nChunks === 0 ? 0 : totalLen / nChunks;
  const { k1, b } = params;
  let p = 0;
  for (let c = 0; c < nChunks; c++) {
    const end = chunkPostEnd.data[c] as number;
    const norm = k1 * (1 - b + (b * (chunkLen.data[c] as number)) / (avgLen || 1));
    for (; p < end; p++) {
      const t = remap[postTerm.data[p] as number] as number;
      const slot = cursor[t] as number;
      cursor[t] = slot + 1;
      const f = postTf.data[p] as number;
      postChunk[slot] = c;
      postImpact[slot] = (f * (k1 + 1)) / (f + norm);
    }
  }
  return new Bm25Index({
    params: { ...params },
    stats: {
      documents: docIds.length,
      chunks: nChunks,
      terms: terms.length,
      postings: nPostings,
      avgChunkLen: avgLen,
      textBytes,
    },
    analyzer: { id: analyzer.id, version: analyzer.version },
    terms,
    docIds,
    termOffsets,
    postChunk,
    postImpact,
    chunkDoc: chunkDoc.finish(),
    chunkStart: chunkStart.finish(),
    chunkEnd: chunkEnd.finish(),
    chunkIds: chunkIds.slice(0, nChunks * 32),
  });
}

const MAGIC = Buffer.from("CRBM25\0\0", "latin1");

interface Section {
  name: "termOffsets" | "postChunk" | "postImpact" | "chunkDoc" | "chunkStart" | "chunkEnd" | "chunkIds";
  bytes: Uint8Array;
}

function sectionsOf(a: IndexArrays): Section[] {
  const view = (x: ArrayBufferView) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return [
    { name: "termOffsets", bytes: view(a.termOffsets) },
    { name: "postChunk", bytes: view(a.postChunk) },
    { name: "postImpact", bytes: view(a.postImpact) },
    { name: "chunkDoc", bytes: view(a.chunkDoc) },
    { name: "chunkStart", bytes: view(a.chunkStart) },
    { name: "chunkEnd", bytes: view(a.chunkEnd) },
    { name: "chunkIds", bytes: a.chunkIds },
  ];
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/**
 * Binary layout: magic (8 bytes), format version (u32 LE), header length (u32 LE), a JSON
 * header (params, stats, analyzer, section sizes, terms, doc ids), then each typed array,
 * 8-byte aligned so it can be viewed in place on load. Typed arrays are little-endian, which
 * every platform Node supports in practice; the header records it.
 */
export function serializeIndex(index: Bm25Index): Uint8Array {
  const a = index.arrays;
  const sections = sectionsOf(a);
  const header = Buffer.from(
    JSON.stringify({
      format: INDEX_FORMAT_VERSION,
      endianness: "LE",
      params: a.params,
      stats: a.stats,
      analyzer: a.analyzer,
      sections: sections.map((s) => [s.name, s.bytes.byteLength]),
      terms: a.terms.join("\n"),
      docIds: a.docIds,
    }),
    "utf8",
  );
  const prefix = 16 + header.length;
  let total = prefix + pad8(prefix);
  for (const s of sections) total += s.bytes.byteLength + pad8(s.bytes.byteLength);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, INDEX_FORMAT_VERSION, true);
  dv.setUint32(12, header.length, true);
  out.set(header, 16);
  let at = prefix + pad8(prefix);
  for (const s of sections) {
    out.set(s.bytes, at);
    at += s.bytes.byteLength + pad8(s.bytes.byteLength);
  }
  return out;
}

export function deserializeIndex(input: Uint8Array): Bm25Index {
  if (input.byteLength < 16 || Buffer.compare(Buffer.from(input.subarray(0, 8)), MAGIC) !== 0) {
    throw new CorruptIndexError("bad magic number");
  }
  // Typed-array views need aligned offsets; a pooled Buffer may not be, so copy only then.
  const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== INDEX_FORMAT_VERSION) throw new CorruptIndexError(`unsupported format version ${version}`);
  const headerLength = dv.getUint32(12, true);
  if (16 + headerLength > bytes.byteLength) throw new CorruptIndexError("truncated header");
  let header: {
    params: Bm25Params;
    stats: IndexStats;
    analyzer: { id: string; version: string };
    sections: Array<[Section["name"], number]>;
    terms: string;
    docIds: string[];
  };
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + headerLength)).toString("utf8"));
  } catch {
    throw new CorruptIndexError("unreadable header");
  }
  const prefix = 16 + headerLength;
  let at = prefix + pad8(prefix);
  const found: Partial<Record<Section["name"], Uint8Array>> = {};
  for (const [name, length] of header.sections) {
    if (at + length > bytes.byteLength) throw new CorruptIndexError(`truncated section ${name}`);
    found[name] = bytes.subarray(at, at + length);
    at += length + pad8(length);
  }
  if (at !== bytes.byteLength) throw new CorruptIndexError("unexpected trailing bytes");
  const section = (name: Section["name"]) => {
    const s = found[name];
    if (s === undefined) throw new CorruptIndexError(`missing section ${name}`);
    return s;
  };
  const u32 = (name: Section["name"]) => {
    const s = section(name);
    return new Uint32Array(s.buffer, s.byteOffset, s.byteLength / 4);
  };
  const impact = section("postImpact");
  const terms = header.terms === "" ? [] : header.terms.split("\n");
  const arrays: IndexArrays = {
    params: header.params,
    stats: header.stats,
    analyzer: header.analyzer,
    terms,
    docIds: header.docIds,
    termOffsets: u32("termOffsets"),
    postChunk: u32("postChunk"),
    postImpact: new Float32Array(impact.buffer, impact.byteOffset, impact.byteLength / 4),
    chunkDoc: u32("chunkDoc"),
    chunkStart: u32("chunkStart"),
    chunkEnd: u32("chunkEnd"),
    chunkIds: section("chunkIds"),
  };
  const { chunks, postings } = header.stats;
  if (
    arrays.termOffsets.length !== terms.length + 1 ||
    arrays.postChunk.length !== postings ||
    arrays.postImpact.length !== postings ||
    arrays.chunkDoc.length !== chunks ||
    arrays.chunkIds.length !== chunks * 32 ||
    arrays.termOffsets[terms.length] !== postings
  ) {
    throw new CorruptIndexError("section sizes disagree with the header");
  }
  return new Bm25Index(arrays);
}
