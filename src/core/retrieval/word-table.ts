/**
 * Maps the words of a text to ids without allocating a string per word: the index build's
 * hot loop. ASCII words are lowercased and hashed straight from char codes into an
 * open-addressing table whose keys live in one Uint16Array pool; only a word seen for the
 * first time becomes a string. Any word with a non-ASCII character takes the exact path of
 * `forEachWord` (NFKC per word), so both paths yield the same words as the analyzer.
 */
import { forEachWord } from "./analyzer.js";

const RAW_WORD = /[\p{L}\p{N}\p{M}]+/uy;

/** Per ASCII code: 0 not a word character, else the lowercased code. */
const ASCII_WORD = new Uint8Array(128);
for (let c = 48; c <= 57; c++) ASCII_WORD[c] = c;
for (let c = 97; c <= 122; c++) ASCII_WORD[c] = c;
for (let c = 65; c <= 90; c++) ASCII_WORD[c] = c + 32;

/** Int32s per slot: hash, value, pool start and length (0 = empty: every word has a character). */
const SLOT = 4;

/**
 * The table keeps what one probe reads together: each slot holds its word's hash, value,
 * pool start and length side by side (a slot is at (hash << 2) & mask), so a hit touches two
 * cache lines, the slot and the pooled chars.
 */
export class WordTable {
  // Every growable array here starts small, so it grows (and the table rehashes and probes past
  // a collision) within the first document, while the code is still interpreted: V8 then
  // optimizes these loops with the growth paths already seen. Started large, each first growth
  // came after optimization and threw the optimized code away (a deopt and a recompile, some
  // 60 ms of a cold SciFact build's CPU across this file, bm25-collect and postings-blocks).
  private slots = new Int32Array(SLOT << 8);
  private pool = new Uint16Array(1 << 10);
  private poolLength = 0;
  private entries = 0;
  private readonly byString = new Map<string, number>();

  /** `resolve` turns a new word into its value (e.g. a term id, or -1 for a stop word). */
  constructor(private readonly resolve: (word: string) => number) {}

  /** Indexed words of the last `scan`: value (>= 0) and code-unit range of the raw word. */
  wordValue = new Int32Array(16);
  wordStart = new Uint32Array(16);
  wordEnd = new Uint32Array(16);
  wordCount = 0;

  /**
   * Scans `text` into wordValue/wordStart/wordEnd, skipping words whose value is negative
   * (stop words). Results go to reused arrays, not a callback: this is the hottest loop.
   */
  scan(text: string): number {
    this.wordCount = 0;
    const visit = (value: number, start: number, end: number) => this.push(value, start, end);
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      const first = c < 128 ? (ASCII_WORD[c] as number) : 0;
      if (first !== 0) {
        const start = i;
        let h = Math.imul(0x811c9dc5 ^ first, 16777619);
        let d = 0;
        // Never read past the end: charCodeAt out of range returns NaN and deoptimizes the loop.
        while (++i < n) {
          d = text.charCodeAt(i);
          const lower = d < 128 ? (ASCII_WORD[d] as number) : 0;
          if (lower === 0) break;
          h = Math.imul(h ^ lower, 16777619);
        }
        if (i < n && d >= 0x80 && this.rawWordAt(text, i)) {
          // The word goes on with a non-ASCII letter or mark: the exact (string) path.
          i = this.slowWord(text, start, visit);
        } else {
          // FNV-1a's low bits see only the low bits of each step: mix the high bits down before
          // the table masks them, or short words crowd a few slots.
          h ^= h >>> 16;
          h = Math.imul(h, 0x45d9f3b);
          h ^= h >>> 16;
          const value = this.lookupAscii(text, start, i, h);
          if (value >= 0) this.push(value, start, i);
        }
      } else if (c >= 0x80 && this.rawWordAt(text, i)) {
        i = this.slowWord(text, i, visit);
      } else i++;
    }
    return this.wordCount;
  }

  private push(value: number, start: number, end: number): void {
    if (value < 0) return;
    const k = this.wordCount;
    if (k === this.wordValue.length) {
      this.wordValue = grow(this.wordValue, new Int32Array(k * 2));
      this.wordStart = grow(this.wordStart, new Uint32Array(k * 2));
      this.wordEnd = grow(this.wordEnd, new Uint32Array(k * 2));
    }
    this.wordValue[k] = value;
    this.wordStart[k] = start;
    this.wordEnd[k] = end;
    this.wordCount = k + 1;
  }

  private rawWordAt(text: string, at: number): boolean {
    RAW_WORD.lastIndex = at;
    return RAW_WORD.test(text);
  }

  private slowWord(
    text: string,
    start: number,
    visit: (value: number, start: number, end: number) => void,
  ): number {
    RAW_WORD.lastIndex = start;
    const m = RAW_WORD.exec(text);
    const end = m === null ? start + 1 : start + m[0].length;
    forEachWord(text.slice(start, end), (word) => {
      let value = this.byString.get(word);
      if (value === undefined) {
        value = this.resolve(word);
        this.byString.set(word, value);
      }
      visit(value, start, end);
    });
    return end;
  }

  private lookupAscii(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const { slots, pool } = this;
    const mask = slots.length - SLOT;
    let slot = (hash << 2) & mask;
    for (;;) {
      const stored = slots[slot + 3] as number;
      if (stored === 0) break;
      if (stored === length && slots[slot] === hash) {
        const at = slots[slot + 2] as number;
        let k = 0;
        while (k < length && ASCII_WORD[text.charCodeAt(start + k)] === pool[at + k]) k++;
        if (k === length) return slots[slot + 1] as number;
      }
      slot = (slot + SLOT) & mask;
    }
    const word = text.slice(start, end).toLowerCase();
    const value = this.byString.get(word) ?? this.resolve(word);
    this.byString.set(word, value);
    this.insert(slot, hash, word, value);
    return value;
  }

  private insert(slot: number, hash: number, word: string, value: number): void {
    this.entries++;
    while (this.poolLength + word.length > this.pool.length)
      this.pool = grow(this.pool, new Uint16Array(this.pool.length * 2));
    for (let k = 0; k < word.length; k++) this.pool[this.poolLength + k] = word.charCodeAt(k);
    this.slots[slot] = hash;
    this.slots[slot + 1] = value;
    this.slots[slot + 2] = this.poolLength;
    this.slots[slot + 3] = word.length;
    this.poolLength += word.length;
    // Keep the load factor under one half so probe chains stay short.
    if (this.entries * 2 * SLOT > this.slots.length) this.rehash();
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - SLOT;
    const old = this.slots;
    for (let s = 0; s < old.length; s += SLOT) {
      if (old[s + 3] === 0) continue;
      let slot = ((old[s] as number) << 2) & mask;
      while (slots[slot + 3] !== 0) slot = (slot + SLOT) & mask;
      slots.set(old.subarray(s, s + SLOT), slot);
    }
    this.slots = slots;
  }
}

function grow<T extends Int32Array | Uint32Array | Uint16Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
