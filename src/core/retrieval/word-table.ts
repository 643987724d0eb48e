/**
 * Maps the words of a text to ids without allocating a string per word: the index build's
 * hot loop. ASCII words are lowercased and hashed straight from char codes into an
 * open-addressing table whose keys live in one Uint16Array pool; only a word seen for the
 * first time becomes a string. Any word with a non-ASCII character takes the exact path of
 * `forEachWord` (NFKC per word), so both paths yield the same words as the analyzer.
 */
import { forEachWord } from "./analyzer.js";

const RAW_WORD = /[\p{L}\p{N}\p{M}]+/uy;

function isAsciiWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

export class WordTable {
  private slots = new Int32Array(1 << 16); // entry index + 1; 0 = empty
  private hashes = new Int32Array(1024);
  private starts = new Uint32Array(1024);
  private lengths = new Uint32Array(1024);
  private values = new Int32Array(1024);
  private pool = new Uint16Array(1 << 16);
  private poolLength = 0;
  private entries = 0;
  private readonly byString = new Map<string, number>();

  /** `resolve` turns a new word into its value (e.g. a term id, or -1 for a stop word). */
  constructor(private readonly resolve: (word: string) => number) {}

  /** Indexed words of the last `scan`: value (>= 0) and code-unit range of the raw word. */
  wordValue = new Int32Array(4096);
  wordStart = new Uint32Array(4096);
  wordEnd = new Uint32Array(4096);
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
      if (isAsciiWordChar(c)) {
        const start = i;
        let h = 0x811c9dc5 | 0;
        let d = c;
        for (;;) {
          const lower = d >= 65 && d <= 90 ? d + 32 : d;
          h = Math.imul(h ^ lower, 16777619);
          i++;
          // Never read past the end: charCodeAt out of range returns NaN and deoptimizes the loop.
          if (i === n) break;
          d = text.charCodeAt(i);
          if (!isAsciiWordChar(d)) break;
        }
        if (i < n && d >= 0x80 && this.rawWordAt(text, i)) {
          // The word goes on with a non-ASCII letter or mark: the exact (string) path.
          i = this.slowWord(text, start, visit);
        } else {
          this.push(this.lookupAscii(text, start, i, h), start, i);
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
    const { slots, hashes, lengths } = this;
    const mask = slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const entry = (slots[slot] as number) - 1;
      if (entry < 0) break;
      if (hashes[entry] === hash && lengths[entry] === length && this.sameWord(entry, text, start, length)) {
        return this.values[entry] as number;
      }
      slot = (slot + 1) & mask;
    }
    const word = text.slice(start, end).toLowerCase();
    const value = this.byString.get(word) ?? this.resolve(word);
    this.byString.set(word, value);
    this.insert(slot, hash, word, value);
    return value;
  }

  private sameWord(entry: number, text: string, start: number, length: number): boolean {
    const at = this.starts[entry] as number;
    const pool = this.pool;
    for (let k = 0; k < length; k++) {
      const c = text.charCodeAt(start + k);
      if ((c >= 65 && c <= 90 ? c + 32 : c) !== pool[at + k]) return false;
    }
    return true;
  }

  private insert(slot: number, hash: number, word: string, value: number): void {
    const entry = this.entries++;
    if (entry >= this.hashes.length) {
      const size = this.hashes.length * 2;
      this.hashes = grow(this.hashes, new Int32Array(size));
      this.starts = grow(this.starts, new Uint32Array(size));
      this.lengths = grow(this.lengths, new Uint32Array(size));
      this.values = grow(this.values, new Int32Array(size));
    }
    while (this.poolLength + word.length > this.pool.length)
      this.pool = grow(this.pool, new Uint16Array(this.pool.length * 2));
    for (let k = 0; k < word.length; k++) this.pool[this.poolLength + k] = word.charCodeAt(k);
    this.hashes[entry] = hash;
    this.starts[entry] = this.poolLength;
    this.lengths[entry] = word.length;
    this.values[entry] = value;
    this.poolLength += word.length;
    this.slots[slot] = entry + 1;
    // Keep the load factor under one half so probe chains stay short.
    if (this.entries * 2 > this.slots.length) this.rehash();
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.entries; e++) {
      let slot = (this.hashes[e] as number) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
  }
}

function grow<T extends Int32Array | Uint32Array | Uint16Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
