/**
 * Builds a Bm25Index from documents in three steps: collect each chunk's postings under
 * provisional term ids (first-seen order), renumber the terms in sorted order, then invert the
 * chunk-major postings into term-major CSR arrays with their BM25 impacts. Sorted term ids make
 * the serialized bytes depend only on the input, not on Map order.
 */
import { createHash } from "node:crypto";
import { CanonError } from "../errors.js";
import { type Analyzer, getAnalyzer } from "./analyzer.js";
import { Bm25Index, type Bm25Params, compareStrings, type IndexArrays } from "./bm25-index.js";
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
  private chunkIdBytes = new Uint8Array(32 * 1024);
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

  get chunks(): number {
    return this.chunkDoc.length;
  }

  chunkIds(): Uint8Array {
    return this.chunkIdBytes.slice(0, this.chunks * 32);
  }

  addDocument(doc: IndexDocument): void {
    if (this.seen.has(doc.docId))
      throw new CanonError("E_CORPUS_DUPLICATE", `duplicate doc_id ${JSON.stringify(doc.docId)}`);
    this.seen.add(doc.docId);
    const docOrdinal = this.docIds.length;
    this.docIds.push(doc.docId);
    const bytes = Buffer.from(doc.text, "utf8");
    this.textBytes += bytes.length;
    // Tokenize the document once; a chunk's terms are the words lying wholly inside its window.
    // Title words count in every chunk of the document: a chunk is about what its document is about.
    const words = this.words;
    const titleTerms =
      this.params.titles && doc.title ? words.wordValue.slice(0, words.scan(doc.title)) : EMPTY;
    const count = words.scan(doc.text);
    let first = 0;
    for (const span of chunkDocument(doc.text, this.params)) {
      this.addChunkId(bytes.subarray(span.start, span.end));
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

  private addChunkId(chunkBytes: Uint8Array): void {
    const at = this.chunks * 32;
    if (at + 32 > this.chunkIdBytes.length) {
      const grown = new Uint8Array(this.chunkIdBytes.length * 2);
      grown.set(this.chunkIdBytes);
      this.chunkIdBytes = grown;
    }
    this.chunkIdBytes.set(createHash("sha256").update(chunkBytes).digest(), at);
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

/** Final term ids follow sorted term order: the index bytes must not depend on insertion order. */
function sortTerms(provisional: readonly string[]): { terms: string[]; remap: Uint32Array } {
  const order = provisional
    .map((_, i) => i)
    .sort((a, b) => compareStrings(provisional[a] as string, provisional[b] as string));
  const remap = new Uint32Array(order.length);
  order.forEach((oldId, newId) => {
    remap[oldId] = newId;
  });
  return { terms: order.map((i) => provisional[i] as string), remap };
}

/**
 * Term-major CSR postings from the chunk-major ones: a counting sort by final term id. Within a
 * term, postings stay in chunk order. Each posting's impact is BM25's term-frequency factor
 * f * (k1 + 1) / (f + k1 * (1 - b + b * len / avgLen)).
 */
function invertPostings(
  collected: ChunkCollector,
  remap: Uint32Array,
  termCount: number,
  { k1, b }: Bm25Params,
  avgLen: number,
): Pick<IndexArrays, "termOffsets" | "postChunk" | "postImpact"> {
  const { postTerm, postTf, chunkPostEnd, chunkLen } = collected;
  const nPostings = postTerm.length;
  const termOffsets = new Uint32Array(termCount + 1);
  for (let p = 0; p < nPostings; p++) {
    const t = remap[postTerm.data[p] as number] as number;
    termOffsets[t + 1] = (termOffsets[t + 1] as number) + 1;
  }
  for (let t = 0; t < termCount; t++)
    termOffsets[t + 1] = (termOffsets[t + 1] as number) + (termOffsets[t] as number);
  const cursor = termOffsets.slice(0, termCount);
  const postChunk = new Uint32Array(nPostings);
  const postImpact = new Float32Array(nPostings);
  let p = 0;
  for (let c = 0; c < collected.chunks; c++) {
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
  return { termOffsets, postChunk, postImpact };
}

export function buildIndex(
  docs: Iterable<IndexDocument>,
  params: Bm25Params,
  onProgress?: (bytesDone: number) => void,
): Bm25Index {
  validateChunkOptions(params);
  const analyzer = getAnalyzer(params.analyzer);
  const collected = new ChunkCollector(analyzer, params);
  for (const doc of docs) {
    collected.addDocument(doc);
    onProgress?.(collected.textBytes);
  }
  const { terms, remap } = sortTerms(collected.counter.terms);
  const nChunks = collected.chunks;
  const avgLen = nChunks === 0 ? 0 : collected.totalLen / nChunks;
  const postings = invertPostings(collected, remap, terms.length, params, avgLen);
  return new Bm25Index({
    params: { ...params },
    stats: {
      documents: collected.docIds.length,
      chunks: nChunks,
      terms: terms.length,
      postings: collected.postTerm.length,
      avgChunkLen: avgLen,
      textBytes: collected.textBytes,
    },
    analyzer: { id: analyzer.id, version: analyzer.version },
    terms,
    docIds: collected.docIds,
    ...postings,
    chunkDoc: collected.chunkDoc.finish(),
    chunkStart: collected.chunkStart.finish(),
    chunkEnd: collected.chunkEnd.finish(),
    chunkIds: collected.chunkIds(),
  });
}
