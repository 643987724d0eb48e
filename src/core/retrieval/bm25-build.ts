/**
 * Builds a Bm25Index from documents in three steps: collect each chunk's postings under
 * provisional term ids (first-seen order), renumber the terms in sorted order, then invert the
 * chunk-major postings into term-major CSR arrays with their BM25 impacts. Sorted term ids make
 * the serialized bytes depend only on the input, not on Map order. The first two steps work on
 * a shard of consecutive documents, so worker threads can run them side by side; the merge
 * gives the same bytes for any split.
 */
import { CanonError, InputError } from "../errors.js";
import { type Analyzer, getAnalyzer } from "./analyzer.js";
import { Bm25Index, type Bm25Params, computeBounds, impactOf, lengthNorm } from "./bm25-index.js";
import { type ChunkSpan, chunkDocument, validateChunkOptions } from "./chunker.js";
import { WordTable } from "./word-table.js";

export interface IndexDocument {
  docId: string;
  text: string;
  title?: string;
}

const EMPTY = new Int32Array(0);

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

/**
 * Term ids and per-chunk term frequencies. Counting uses a count per term id plus the list of
 * ids touched, not a Map per chunk: this is the build's hot loop.
 */
class TermCounter {
  private readonly ids = new Map<string, number>();
  /** Terms by provisional id, in first-seen order. */
  readonly terms: string[] = [];
  private tf = new Uint32Array(1024);
  /** Ids counted in the current chunk, in first-seen order: the order of its postings. */
  private readonly counted = new U32Builder();

  idOf(term: string): number {
    let id = this.ids.get(term);
    if (id === undefined) {
      id = this.terms.length;
      this.ids.set(term, id);
      this.terms.push(term);
      if (id >= this.tf.length) {
        const grown = new Uint32Array(this.tf.length * 2);
        grown.set(this.tf);
        this.tf = grown;
      }
    }
    return id;
  }

  /**
   * Provisional ids in sorted term order. Array.prototype.sort without a comparator compares
   * UTF-16 code units, as compareStrings does, natively and so several times faster.
   */
  sortedIds(): number[] {
    return [...this.terms].sort().map((term) => this.ids.get(term) as number);
  }

  count(t: number): void {
    if (this.tf[t] === 0) this.counted.push(t);
    this.tf[t] = (this.tf[t] as number) + 1;
  }

  /** Appends the current chunk's (term, frequency) postings and starts the next chunk at zero. */
  flush(postTerm: U32Builder, postTf: U32Builder): void {
    for (let i = 0; i < this.counted.length; i++) {
      const t = this.counted.data[i] as number;
      postTerm.push(t);
      postTf.push(this.tf[t] as number);
      this.tf[t] = 0;
    }
    this.counted.length = 0;
  }
}

/** Chunk-major postings under provisional term ids, with each chunk's position and length. */
class ChunkCollector {
  readonly counter = new TermCounter();
  readonly postTerm = new U32Builder();
  readonly postTf = new U32Builder();
  /** Chunk c's postings end at chunkPostEnd[c] (and start where chunk c - 1's end). */
  readonly chunkPostEnd = new U32Builder();
  readonly chunkDoc = new U32Builder();
  readonly chunkStart = new U32Builder();
  readonly chunkEnd = new U32Builder();
  /** Terms per chunk, the BM25 document length. */
  readonly chunkLen = new U32Builder();
  readonly docIds: string[] = [];
  private readonly seen = new Set<string>();
  textBytes = 0;
  totalLen = 0;
  private readonly words: WordTable;

  constructor(
    analyzer: Analyzer,
    private readonly params: Bm25Params,
  ) {
    // Word -> term id (-1: not indexed), without a string per word.
    this.words = new WordTable((word) => {
      const term = analyzer.term(word);
      return term === null ? -1 : this.counter.idOf(term);
    });
  }

  private lastTitle = "";
  private lastTitleTerms = EMPTY;

  get chunks(): number {
    return this.chunkDoc.length;
  }

  addDocument(doc: IndexDocument): void {
    if (this.seen.has(doc.docId))
      throw new CanonError("E_CORPUS_DUPLICATE", `duplicate doc_id ${JSON.stringify(doc.docId)}`);
    this.seen.add(doc.docId);
    const docOrdinal = this.docIds.length;
    this.docIds.push(doc.docId);
    this.textBytes += Buffer.byteLength(doc.text, "utf8");
    // Tokenize the document once; a chunk's terms are the words lying wholly inside its window.
    // Title words count in every chunk of the document: a chunk is about what its document is about.
    const words = this.words;
    let titleTerms = EMPTY;
    if (this.params.titles && doc.title) {
      // Consecutive documents often share a title (passages of one article): scan it once.
      if (doc.title !== this.lastTitle) {
        this.lastTitle = doc.title;
        this.lastTitleTerms = words.wordValue.slice(0, words.scan(doc.title));
      }
      titleTerms = this.lastTitleTerms;
    }
    const count = words.scan(doc.text);
    let first = 0;
    for (const span of chunkDocument(doc.text, this.params)) {
      while (first < count && (words.wordStart[first] as number) < span.textStart) first++;
      const length = this.countChunkTerms(span, first, count, titleTerms);
      this.counter.flush(this.postTerm, this.postTf);
      this.chunkPostEnd.push(this.postTerm.length);
      this.chunkDoc.push(docOrdinal);
      this.chunkStart.push(span.start);
      this.chunkEnd.push(span.end);
      this.chunkLen.push(length);
      this.totalLen += length;
    }
  }

  /** Counts the scanned words from `first` that lie wholly inside the span, then the title's; returns the chunk length. */
  private countChunkTerms(span: ChunkSpan, first: number, count: number, titleTerms: Int32Array): number {
    const { wordStart, wordEnd, wordValue } = this.words;
    let length = 0;
    for (let w = first; w < count && (wordStart[w] as number) < span.textEnd; w++) {
      if ((wordEnd[w] as number) > span.textEnd) continue;
      this.counter.count(wordValue[w] as number);
      length++;
    }
    for (let i = 0; i < titleTerms.length; i++) {
      this.counter.count(titleTerms[i] as number);
      length++;
    }
    return length;
  }
}

/**
 * One shard of a build: the chunk-major postings of a run of consecutive documents, under the
 * shard's own term ids (its terms in sorted order). Plain data (typed arrays and strings), so
 * a worker thread can send it back; `mergeShards` joins shards into an index.
 */
export interface IndexShard {
  /** Sorted by code unit; a shard term id is a position here. */
  terms: string[];
  /** Chunk-major postings: shard term id and term frequency. */
  postTerm: Uint32Array;
  postTf: Uint32Array;
  /** Chunk c's postings end at chunkPostEnd[c] (and start where chunk c - 1's end). */
  chunkPostEnd: Uint32Array;
  /** The chunk's document, as a position in docIds. */
  chunkDoc: Uint32Array;
  chunkStart: Uint32Array;
  chunkEnd: Uint32Array;
  /** Terms per chunk, the BM25 document length. */
  chunkLen: Uint32Array;
  docIds: string[];
  textBytes: number;
  totalLen: number;
}

/** Tokenizes and chunks `docs` into a shard. */
export function collectShard(
  docs: Iterable<IndexDocument>,
  params: Bm25Params,
  onProgress?: (bytesDone: number) => void,
): IndexShard {
  validateChunkOptions(params);
  validateBm25Params(params);
  const collected = new ChunkCollector(getAnalyzer(params.analyzer), params);
  for (const doc of docs) {
    collected.addDocument(doc);
    onProgress?.(collected.textBytes);
  }
  // Shard term ids follow sorted term order: the index bytes must not depend on insertion order.
  const provisional = collected.counter.terms;
  const order = collected.counter.sortedIds();
  const remap = new Uint32Array(order.length);
  order.forEach((oldId, newId) => {
    remap[oldId] = newId;
  });
  const postTerm = collected.postTerm.finish();
  for (let p = 0; p < postTerm.length; p++) postTerm[p] = remap[postTerm[p] as number] as number;
  return {
    terms: order.map((i) => provisional[i] as string),
    postTerm,
    postTf: collected.postTf.finish(),
    chunkPostEnd: collected.chunkPostEnd.finish(),
    chunkDoc: collected.chunkDoc.finish(),
    chunkStart: collected.chunkStart.finish(),
    chunkEnd: collected.chunkEnd.finish(),
    chunkLen: collected.chunkLen.finish(),
    docIds: collected.docIds,
    textBytes: collected.textBytes,
    totalLen: collected.totalLen,
  };
}

/** The sorted union of the shards' sorted terms, and each shard's map from its term ids to the union's. */
function mergeTerms(shards: readonly IndexShard[]): { terms: string[]; remaps: Uint32Array[] } {
  if (shards.length === 1) {
    const only = (shards[0] as IndexShard).terms;
    return { terms: only, remaps: [Uint32Array.from(only, (_, i) => i)] };
  }
  const terms: string[] = [];
  const remaps = shards.map((s) => new Uint32Array(s.terms.length));
  const at = new Array<number>(shards.length).fill(0);
  for (;;) {
    let least: string | undefined;
    for (let s = 0; s < shards.length; s++) {
      const term = (shards[s] as IndexShard).terms[at[s] as number];
      if (term !== undefined && (least === undefined || term < least)) least = term;
    }
    if (least === undefined) break;
    for (let s = 0; s < shards.length; s++) {
      const shard = shards[s] as IndexShard;
      const i = at[s] as number;
      if (shard.terms[i] === least) {
        (remaps[s] as Uint32Array)[i] = terms.length;
        at[s] = i + 1;
      }
    }
    terms.push(least);
  }
  return { terms, remaps };
}

/**
 * Joins shards, in document order, into an index: the same bytes whether the documents were
 * collected as one shard or several. Term-major CSR postings come from the chunk-major ones by
 * a counting sort on the final term id; within a term, postings stay in chunk order. Each
 * posting's impact is BM25's term-frequency factor f * (k1 + 1) / (f + k1 * (1 - b + b * len / avgLen)).
 */
export function mergeShards(shards: readonly IndexShard[], params: Bm25Params): Bm25Index {
  validateChunkOptions(params);
  validateBm25Params(params);
  const analyzer = getAnalyzer(params.analyzer);
  const docIds = shards.length === 1 ? (shards[0] as IndexShard).docIds : shards.flatMap((s) => s.docIds);
  if (shards.length > 1) {
    const seen = new Set<string>();
    for (const id of docIds) {
      if (seen.has(id)) throw new CanonError("E_CORPUS_DUPLICATE", `duplicate doc_id ${JSON.stringify(id)}`);
      seen.add(id);
    }
  }
  const { terms, remaps } = mergeTerms(shards);
  let nChunks = 0;
  let nPostings = 0;
  let totalLen = 0;
  let textBytes = 0;
  for (const s of shards) {
    nChunks += s.chunkDoc.length;
    nPostings += s.postTerm.length;
    totalLen += s.totalLen;
    textBytes += s.textBytes;
  }
  const avgLen = nChunks === 0 ? 0 : totalLen / nChunks;
  const termCount = terms.length;
  const termOffsets = new Uint32Array(termCount + 1);
  shards.forEach((s, i) => {
    const remap = remaps[i] as Uint32Array;
    const { postTerm } = s;
    for (let p = 0; p < postTerm.length; p++) {
      const t = (remap[postTerm[p] as number] as number) + 1;
      termOffsets[t] = (termOffsets[t] as number) + 1;
    }
  });
  for (let t = 0; t < termCount; t++)
    termOffsets[t + 1] = (termOffsets[t + 1] as number) + (termOffsets[t] as number);
  const cursor = termOffsets.slice(0, termCount);
  const postChunk = new Uint32Array(nPostings);
  const postImpact = new Float32Array(nPostings);
  const { k1, b } = params;
  const chunkDoc = new Uint32Array(nChunks);
  const chunkStart = new Uint32Array(nChunks);
  const chunkEnd = new Uint32Array(nChunks);
  const allChunkLen = new Uint32Array(nChunks);
  let c = 0;
  let doc = 0;
  shards.forEach((s, i) => {
    const remap = remaps[i] as Uint32Array;
    const { postTerm, postTf, chunkPostEnd, chunkLen } = s;
    chunkStart.set(s.chunkStart, c);
    chunkEnd.set(s.chunkEnd, c);
    allChunkLen.set(chunkLen, c);
    let p = 0;
    for (let local = 0; local < s.chunkDoc.length; local++, c++) {
      chunkDoc[c] = doc + (s.chunkDoc[local] as number);
      const end = chunkPostEnd[local] as number;
      const norm = lengthNorm(k1, b, chunkLen[local] as number, avgLen);
      for (; p < end; p++) {
        const t = remap[postTerm[p] as number] as number;
        const slot = cursor[t] as number;
        cursor[t] = slot + 1;
        const f = postTf[p] as number;
        postChunk[slot] = c;
        postImpact[slot] = impactOf(f, k1, norm);
      }
    }
    doc += s.docIds.length;
  });
  return new Bm25Index({
    params: { ...params },
    stats: {
      documents: docIds.length,
      chunks: nChunks,
      terms: termCount,
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
    bounds: computeBounds(termOffsets, postImpact),
    chunkDoc,
    chunkStart,
    chunkEnd,
    chunkLen: allChunkLen,
  });
}

/**
 * BM25's own ranges: k1 >= 0 and 0 <= b <= 1 keep every impact positive, which the pruned
 * search and the index format rely on.
 */
export function validateBm25Params({ k1, b }: Pick<Bm25Params, "k1" | "b">): void {
  if (!(Number.isFinite(k1) && k1 >= 0))
    throw new InputError("E_USAGE", `BM25 k1 must be a number >= 0 (got ${k1})`, { field: "bm25_k1" });
  if (!(Number.isFinite(b) && b >= 0 && b <= 1))
    throw new InputError("E_USAGE", `BM25 b must be between 0 and 1 (got ${b})`, { field: "bm25_b" });
}

/** Builds an index in this thread: one shard. io/index-cache/index-build-pool.ts splits a build across threads. */
export function buildIndex(
  docs: Iterable<IndexDocument>,
  params: Bm25Params,
  onProgress?: (bytesDone: number) => void,
): Bm25Index {
  return mergeShards([collectShard(docs, params, onProgress)], params);
}
