/** The top-k selection every search of bm25-index.ts ends in, ranked by the caller's order. */
import type { Ranked } from "./bm25-arrays.js";

/** The k best (chunk, score) pairs seen, in a binary heap with the worst on top. */
export class TopK {
  private readonly chunks: number[] = [];
  private readonly scores: number[] = [];

  constructor(
    private readonly k: number,
    private readonly better: (a: number, sa: number, b: number, sb: number) => boolean,
  ) {}

  get full(): boolean {
    return this.chunks.length === this.k;
  }

  /** The k-th best score so far (only meaningful when full). */
  get worstScore(): number {
    return this.scores[0] as number;
  }

  /** Keeps the pair if it is among the k best so far; returns whether it was kept. */
  offer(chunk: number, score: number): boolean {
    if (this.k === 0) return false;
    if (this.chunks.length < this.k) {
      this.chunks.push(chunk);
      this.scores.push(score);
      this.siftUp(this.chunks.length - 1);
      return true;
    }
    if (!this.better(chunk, score, this.chunks[0] as number, this.scores[0] as number)) return false;
    this.chunks[0] = chunk;
    this.scores[0] = score;
    this.siftDown(0);
    return true;
  }

  /** Whether entry i ranks before entry j. */
  private before(i: number, j: number): boolean {
    return this.better(
      this.chunks[i] as number,
      this.scores[i] as number,
      this.chunks[j] as number,
      this.scores[j] as number,
    );
  }

  private swap(i: number, j: number): void {
    const c = this.chunks[i] as number;
    const s = this.scores[i] as number;
    this.chunks[i] = this.chunks[j] as number;
    this.scores[i] = this.scores[j] as number;
    this.chunks[j] = c;
    this.scores[j] = s;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(parent, i)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.chunks.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < n && this.before(worst, l)) worst = l;
      if (r < n && this.before(worst, r)) worst = r;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }

  /** The kept pairs, best first. */
  ranked(): Ranked {
    const order = this.chunks.map((_, i) => i);
    order.sort((i, j) => (this.before(i, j) ? -1 : this.before(j, i) ? 1 : 0));
    return {
      chunks: order.map((i) => this.chunks[i] as number),
      scores: order.map((i) => this.scores[i] as number),
    };
  }
}
