/**
 * Growable typed arrays for the index build. Chunk-major postings go into fixed-size blocks,
 * never into one array that doubles: a doubling array holds up to twice what it needs and
 * copies everything at each step and once more to trim, which was most of a large build's
 * peak memory. A posting is a term id (4 bytes) and a term frequency (2 bytes; the rare
 * frequency from 65,535 up is kept exactly in a side map).
 */

/** A growable Uint32Array: amortised O(1) append without one JS number object per value. */
export class U32Builder {
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

/** log2 of the postings per block. */
export const BLOCK_SHIFT = 16;
/** Postings per block: 256 KiB of term ids, 128 KiB of frequencies. */
export const BLOCK_SIZE = 1 << BLOCK_SHIFT;
/** The largest frequency a block stores itself; this and above, `tfOver` holds the frequency. */
const TF_SATURATED = 0xffff;

/** Postings in blocks: posting p is at index p & (BLOCK_SIZE - 1) of block p >>> BLOCK_SHIFT. */
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

export class PostingsBuilder implements PostingBlocks {
  length = 0;
  readonly termBlocks: Uint32Array[] = [];
  readonly tfBlocks: Uint16Array[] = [];
  readonly tfOver = new Map<number, number>();
  private terms = new Uint32Array(0);
  private tfs = new Uint16Array(0);
  private at = BLOCK_SIZE;

  push(term: number, tf: number): void {
    if (this.at === BLOCK_SIZE) {
      this.terms = new Uint32Array(BLOCK_SIZE);
      this.tfs = new Uint16Array(BLOCK_SIZE);
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
