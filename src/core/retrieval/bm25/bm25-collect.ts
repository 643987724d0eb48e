/**
 * The first step of an index build: tokenize and chunk a run of consecutive documents into one
 * shard, its postings chunk-major under the shard's own term ids (its terms in sorted order).
 * Sorted term ids make the index bytes depend only on the input, not on Map order; bm25-merge.ts
 * joins shards into an index.
 */
import { CanonError } from "../../errors.js";
import { type Analyzer, getAnalyzer } from "../analyzer.js";
import { type ChunkSpan, chunkDocument } from "../chunker.js";
import { WordTable } from "../word-table.js";
import type { Bm25Params } from "./bm25-index.js";
import { type PostingBlocks, PostingsBuilder, U32Builder } from "./postings-blocks.js";

export interface IndexDocument {
  docId: string;
  text: string;
  title?: string;
}

/**
 * What a shard tells the merge: plain data (typed arrays and strings), so a worker thread can
 * send it back, its arrays moved, not copied. The postings stay with the thread that collected
 * them until the merge says where they go (bm25-merge.ts).
 */
export interface ShardSummary {
  /** Sorted by code unit; a shard term id is a position here. */
  terms: string[];
  /** The number of postings of each shard term. */
  termPostings: Uint32Array;
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

/** Chunk-major postings: chunk c's are [chunkPostEnd[c - 1], chunkPostEnd[c]), under shard term ids. */
export interface ShardPostings extends PostingBlocks {
  chunkPostEnd: Uint32Array;
}

export interface IndexShard extends ShardSummary {
  postings: ShardPostings;
}

const EMPTY = new Int32Array(0);

/**
 * Term ids and per-chunk term frequencies. Counting uses a count per term id plus the list of
 * ids touched, not a Map per chunk: this is the build's hot loop.
 */
class TermCounter {
  private readonly ids = new Map<string, number>();
  /** Terms by provisional id, in first-seen order. */
  readonly terms: string[] = [];
  /** Grown as ids are given; starts small so it grows while the code is cold (see word-table.ts). */
  private tf = new Uint32Array(16);
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
  flush(postings: PostingsBuilder): void {
    for (let i = 0; i < this.counted.length; i++) {
      const t = this.counted.data[i] as number;
      postings.push(t, this.tf[t] as number);
      this.tf[t] = 0;
    }
    this.counted.length = 0;
  }
}

/** Chunk-major postings under provisional term ids, with each chunk's position and length. */
class ChunkCollector {
  readonly counter = new TermCounter();
  readonly postings = new PostingsBuilder();
  readonly chunkPostEnd = new U32Builder();
  readonly chunkDoc = new U32Builder();
  readonly chunkStart = new U32Builder();
  readonly chunkEnd = new U32Builder();
  readonly chunkLen = new U32Builder();
  readonly docIds: string[] = [];
  private readonly seen = new Set<string>();
  textBytes = 0;
  totalLen = 0;
  private readonly words: WordTable;
  private lastTitle = "";
  private lastTitleTerms = EMPTY;

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
      this.counter.flush(this.postings);
      this.chunkPostEnd.push(this.postings.length);
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
 * Renumbers the postings' provisional term ids in place to sorted ids, and counts each sorted
 * term's postings.
 */
function renumber(postings: PostingBlocks, order: readonly number[]): Uint32Array {
  const remap = new Uint32Array(order.length);
  order.forEach((oldId, newId) => {
    remap[oldId] = newId;
  });
  const counts = new Uint32Array(order.length);
  let left = postings.length;
  for (const block of postings.termBlocks) {
    const end = Math.min(block.length, left);
    left -= end;
    for (let i = 0; i < end; i++) {
      const t = remap[block[i] as number] as number;
      block[i] = t;
      counts[t] = (counts[t] as number) + 1;
    }
  }
  return counts;
}

/** Tokenizes and chunks `docs` into a shard (parameters are checked by the caller). */
export function collectDocuments(
  docs: Iterable<IndexDocument>,
  params: Bm25Params,
  onProgress?: (bytesDone: number) => void,
): IndexShard {
  const collected = new ChunkCollector(getAnalyzer(params.analyzer), params);
  for (const doc of docs) {
    collected.addDocument(doc);
    onProgress?.(collected.textBytes);
  }
  const provisional = collected.counter.terms;
  const order = collected.counter.sortedIds();
  const { postings } = collected;
  const termPostings = renumber(postings, order);
  return {
    terms: order.map((i) => provisional[i] as string),
    termPostings,
    chunkDoc: collected.chunkDoc.finish(),
    chunkStart: collected.chunkStart.finish(),
    chunkEnd: collected.chunkEnd.finish(),
    chunkLen: collected.chunkLen.finish(),
    docIds: collected.docIds,
    textBytes: collected.textBytes,
    totalLen: collected.totalLen,
    postings: {
      length: postings.length,
      termBlocks: postings.termBlocks,
      tfBlocks: postings.tfBlocks,
      tfOver: postings.tfOver,
      chunkPostEnd: collected.chunkPostEnd.finish(),
    },
  };
}
