/**
 * Character-window chunking with overlap (docs/design.md §3.3). Windows count Unicode code points and
 * never split a surrogate pair; spans are UTF-8 byte offsets into the document text, so a
 * citation can be checked against the corpus bytes directly. Window ends snap back to a
 * sentence end (or else a word break) so the reasoner sees whole sentences.
 */
import { CanonError } from "../errors.js";

/** Any code unit outside ASCII. */
export const NON_ASCII = /[\u0080-\uffff]/;

export interface ChunkSpan {
  /** UTF-8 byte offsets into the document text; end is exclusive. */
  start: number;
  end: number;
  /** The same range in UTF-16 code units of the JavaScript string. */
  textStart: number;
  textEnd: number;
}

export interface ChunkOptions {
  chunkChars: number;
  overlapChars: number;
}

export class InvalidChunkingError extends CanonError {
  constructor(message: string) {
    super("E_CHUNKING", message, { exitCode: 2, where: { field: "chunk_chars" } });
  }
}

function isSpace(code: number): boolean {
  return (
    code === 32 ||
    (code >= 9 && code <= 13) ||
    code === 0xa0 ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x3000
  );
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Moves `count` code points forward from code-unit index `from`. */
function advance(text: string, from: number, count: number): number {
  let i = from;
  for (let n = 0; n < count && i < text.length; n++) i += isHighSurrogate(text.charCodeAt(i)) ? 2 : 1;
  return i;
}

/** Code-unit index -> UTF-8 byte offset, for every index (length + 1 entries). */
function byteOffsets(text: string): Uint32Array | null {
  if (!NON_ASCII.test(text)) return null; // ASCII: byte offset == index
  const out = new Uint32Array(text.length + 1);
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    out[i] = bytes;
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (isHighSurrogate(c) && i + 1 < text.length) {
      out[i + 1] = bytes; // inside a pair: never a span boundary, kept monotone anyway
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  out[text.length] = bytes;
  return out;
}

/** Where a window that would end at `hardEnd` should end instead. */
function snapEnd(text: string, start: number, hardEnd: number): number {
  const half = start + Math.floor((hardEnd - start) / 2);
  for (let i = hardEnd - 1; i > half; i--) {
    const c = text.charCodeAt(i);
    if ((c === 46 || c === 33 || c === 63) && isSpace(text.charCodeAt(i + 1))) return i + 1;
    if (c === 10) return i + 1;
  }
  const fifth = hardEnd - Math.floor((hardEnd - start) / 5);
  for (let i = hardEnd - 1; i > fifth; i--) if (isSpace(text.charCodeAt(i))) return i;
  return hardEnd;
}

export function validateChunkOptions({ chunkChars, overlapChars }: ChunkOptions): void {
  if (!Number.isInteger(chunkChars) || chunkChars < 1)
    throw new InvalidChunkingError("chunk_chars must be an integer >= 1");
  if (!Number.isInteger(overlapChars) || overlapChars < 0 || overlapChars >= chunkChars) {
    throw new InvalidChunkingError("overlap_chars must be an integer with 0 <= overlap_chars < chunk_chars");
  }
}

export function chunkDocument(text: string, options: ChunkOptions): ChunkSpan[] {
  validateChunkOptions(options);
  const { chunkChars, overlapChars } = options;
  const bytes = byteOffsets(text);
  const toByte = (i: number) => (bytes === null ? i : (bytes[i] as number));
  const spans: ChunkSpan[] = [];
  let start = 0;
  while (start < text.length) {
    // ASCII text (no byte offsets needed) has no surrogate pairs: a code point is a code unit.
    const hardEnd =
      bytes === null ? Math.min(text.length, start + chunkChars) : advance(text, start, chunkChars);
    const end = hardEnd >= text.length ? text.length : snapEnd(text, start, hardEnd);
    let s = start;
    let e = end;
    while (s < e && isSpace(text.charCodeAt(s))) s++;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    if (e > s) spans.push({ start: toByte(s), end: toByte(e), textStart: s, textEnd: e });
    if (end >= text.length) break;
    // Step back by the overlap, then forward to a word start so no window begins mid-word.
    let next = Math.max(start + 1, end - overlapChars);
    if (next < text.length && text.charCodeAt(next) >= 0xdc00 && text.charCodeAt(next) <= 0xdfff) next++;
    const atWordStart = isSpace(text.charCodeAt(next - 1));
    for (let i = next; i < end && !atWordStart; i++) {
      if (isSpace(text.charCodeAt(i))) {
        next = i + 1;
        break;
      }
    }
    start = next > start ? next : end;
  }
  return spans;
}
