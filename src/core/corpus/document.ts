/**
 * Corpus documents and the snapshot format. A snapshot is one JCS line per document, in
 * input order, so its sha256 pins the exact text every evidence span points into, and a
 * document can be found by scanning line prefixes without parsing the whole snapshot.
 */
import { canonicalJson } from "../canonical.js";
import { InputError } from "../errors.js";
import { hasLoneSurrogate, loneSurrogateError } from "../unicode.js";

export interface CorpusDocument {
  doc_id: string;
  text: string;
  title?: string;
  source?: string;
}

/** Parses one JSONL corpus line; `_id` (BEIR) is accepted for `doc_id`. Extra fields are ignored. */
export function parseCorpusLine(line: string, file: string, lineNo: number): CorpusDocument {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError("E_CORPUS_LINE", `not valid JSON (${reason})`, { file, line: lineNo });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError("E_CORPUS_LINE", "expected a JSON object", { file, line: lineNo });
  }
  const record = value as Record<string, unknown>;
  const idField = "doc_id" in record ? "doc_id" : "_id";
  const docId = record[idField];
  if (docId === undefined) {
    throw new InputError("E_CORPUS_LINE", "missing document id (doc_id or _id)", {
      file,
      line: lineNo,
      field: "doc_id",
    });
  }
  if (typeof docId !== "string" || docId === "") {
    throw new InputError("E_CORPUS_LINE", "must be a non-empty string", {
      file,
      line: lineNo,
      field: idField,
    });
  }
  const text = record.text;
  if (text === undefined)
    throw new InputError("E_CORPUS_LINE", "missing", { file, line: lineNo, field: "text" });
  if (typeof text !== "string")
    throw new InputError("E_CORPUS_LINE", "must be a string", { file, line: lineNo, field: "text" });
  const doc: CorpusDocument = { doc_id: docId, text };
  for (const field of ["title", "source"] as const) {
    const v = record[field];
    if (v === undefined || v === null || v === "") continue;
    if (typeof v !== "string")
      throw new InputError("E_CORPUS_LINE", "must be a string", { file, line: lineNo, field });
    doc[field] = v;
  }
  // A lone surrogate has no UTF-8 bytes to hash or cite: bad input, not a crash in the hasher.
  for (const field of ["doc_id", "text", "title", "source"] as const) {
    const v = doc[field];
    if (v !== undefined && hasLoneSurrogate(v)) {
      throw loneSurrogateError({
        file,
        line: lineNo,
        field: field === "doc_id" ? idField : field,
      });
    }
  }
  return doc;
}

export function snapshotLine(doc: CorpusDocument): string {
  return `${canonicalJson(doc)}\n`;
}

const NEWLINE = 0x0a;

/**
 * The requested documents of a snapshot, parsed; ids that are absent are simply missing from
 * the map. Each line starts with `{"doc_id":<JCS string>,` and JCS encodes a string exactly
 * as JSON.stringify does, so a document is found by a native byte search for that prefix at
 * a line start, without parsing the lines in between.
 */
/**
 * Documents already found in these exact snapshot bytes (null: absent). One process looks the
 * same few documents up several times per run (the retrieve tool, then the verifier's
 * recomputation and evidence checks); the bytes are immutable, so the answers are too.
 */
const foundIn = new WeakMap<Uint8Array, Map<string, CorpusDocument | null>>();

export function findDocuments(bytes: Uint8Array, docIds: readonly string[]): Map<string, CorpusDocument> {
  let memo = foundIn.get(bytes);
  if (memo === undefined) {
    memo = new Map();
    foundIn.set(bytes, memo);
  }
  const found = new Map<string, CorpusDocument>();
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const docId of new Set(docIds)) {
    let doc = memo.get(docId);
    if (doc === undefined) {
      doc = scanFor(haystack, docId);
      memo.set(docId, doc);
    }
    // A copy: callers own what they are given, and the memo must stay as read.
    if (doc !== null) found.set(docId, { ...doc });
  }
  return found;
}

function scanFor(haystack: Buffer, docId: string): CorpusDocument | null {
  const prefix = Buffer.from(`{"doc_id":${JSON.stringify(docId)},`, "utf8");
  for (let at = haystack.indexOf(prefix); at >= 0; at = haystack.indexOf(prefix, at + 1)) {
    if (at > 0 && haystack[at - 1] !== NEWLINE) continue;
    let end = haystack.indexOf(NEWLINE, at);
    if (end < 0) end = haystack.length;
    return JSON.parse(haystack.subarray(at, end).toString("utf8")) as CorpusDocument;
  }
  return null;
}

/** Every document of a snapshot, in order. */
export function* readSnapshot(bytes: Uint8Array): Generator<CorpusDocument> {
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end < 0) end = bytes.length;
    if (end > start)
      yield JSON.parse(Buffer.from(bytes.subarray(start, end)).toString("utf8")) as CorpusDocument;
    start = end + 1;
  }
}
