/**
 * Growable typed arrays for the index build. Chunk-major postings go into blocks, never into
 * one array that doubles: a doubling array holds up to twice what it needs and copies
 * everything at each step and once more to trim, which was most of a large build's peak
 * memory. Blocks double from 1Ki postings up to 16Mi, so a small build allocates little.
 * Each block sits in a resizable ArrayBuffer, which `releaseBlock` shrinks to nothing: its
 * memory goes back to the system at once, not whenever the garbage collector next runs, so a
 * build's postings are gone before the index is serialized (element access costs about a
 * nanosecond more, some 1% of a build). A posting is a term id (4 bytes) and a term frequency
 * (2 bytes; the rare frequency from 65,535 up is kept exactly in a side map).
 */

/**
 * A growable Uint32Array: amortised O(1) append without one JS number object per value. It
 * starts small so that it grows while the build's code is cold (see word-table.ts).
 */
export class U32Builder {
  data = new Uint32Array(16);
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
 * Postings in the first block; each next block holds twice as many, up to LARGEST_BLOCK. Small,
 * so the second block is started while the build's code is cold (see word-table.ts).
 */
const FIRST_BLOCK = 1 << 10;
const LARGEST_BLOCK = 1 << 24;
/** The largest frequency a block stores itself; this and above, `tfOver` holds the frequency. */
const TF_SATURATED = 0xffff;

/** Postings in blocks, in order: each block is full but the last, which holds the rest. */
export interface PostingBlocks {
  /** The number of postings. */
  length: number;
  termBlocks: Uint32Array[];
  tfBlocks: Uint16Array[];
  /** The frequencies of postings whose block entry is TF_SATURATED, by posting. */
  tfOver: Map<number, number>;
}

/** The term frequency of posting p, whose block entry is `stored`. */
export function frequencyOf(blocks: PostingBlocks, p: number, stored: number): number {
  return stored === TF_SATURATED ? (blocks.tfOver.get(p) as number) : stored;
}

/** The resizable ArrayBuffer of ES2024, in Node 20 but not in this project's ES2023 library types. */
type ResizableBuffer = ArrayBuffer & { resize(byteLength: number): void };
const ResizableBuffer = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableBuffer;

function resizable(bytes: number): ResizableBuffer {
  return new ResizableBuffer(bytes, { maxByteLength: bytes });
}

/** Frees block `b`'s memory now; the block reads as empty from then on. */
export function releaseBlock(blocks: PostingBlocks, b: number): void {
  (blocks.termBlocks[b]?.buffer as ResizableBuffer | undefined)?.resize(0);
  (blocks.tfBlocks[b]?.buffer as ResizableBuffer | undefined)?.resize(0);
}

export class PostingsBuilder implements PostingBlocks {
  length = 0;
  readonly termBlocks: Uint32Array[] = [];
  readonly tfBlocks: Uint16Array[] = [];
  readonly tfOver = new Map<number, number>();
  private terms: Uint32Array = new Uint32Array(0);
  private tfs: Uint16Array = new Uint16Array(0);
  private at = 0;
  /** The current block's size (read from the view, a resizable buffer's, it costs more). */
  private size = 0;

  push(term: number, tf: number): void {
    if (this.at === this.size) {
      const size = this.size === 0 ? FIRST_BLOCK : Math.min(LARGEST_BLOCK, this.size * 2);
      this.size = size;
      this.terms = new Uint32Array(resizable(size * 4), 0, size);
      this.tfs = new Uint16Array(resizable(size * 2), 0, size);
      this.termBlocks.push(this.terms);
      this.tfBlocks.push(this.tfs);
      this.at = 0;
    }
    this.terms[this.at] = term;
    if (tf >= TF_SATURATED) {
      this.tfs[this.at] = TF_SATURATED;
      this.tfOver.set(this.length, tf);
    } else this.tfs[this.at] = tf;
    this.at++;
    this.length++;
  }
}
