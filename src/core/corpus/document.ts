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
 * as JSON.stringify does, so a document is the first line that starts with that prefix, found
 * without parsing the lines in between.
 *
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
      doc = scanFor(bytes, haystack, docId, memo.size);
      memo.set(docId, doc);
    }
    // A copy: callers own what they are given, and the memo must stay as read.
    if (doc !== null) found.set(docId, { ...doc });
  }
  return found;
}

const DOC_ID_PREFIX = Buffer.from('{"doc_id":', "utf8");
const COMMA = Buffer.from(",", "utf8");
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * A run looks up a handful of documents: a native search for each is cheaper than a table of
 * every line. Past this many distinct lookups in one snapshot (an eval makes thousands), the
 * table is built once and every later lookup is a map probe.
 */
const SEARCHES_BEFORE_TABLE = 16;

function scanFor(bytes: Uint8Array, haystack: Buffer, docId: string, lookups: number): CorpusDocument | null {
  const token = Buffer.from(JSON.stringify(docId), "utf8");
  const at =
    lookups < SEARCHES_BEFORE_TABLE
      ? searchLine(haystack, token)
      : lineStarts(bytes, haystack).get(token.toString("latin1"));
  if (at === undefined) return null;
  let end = haystack.indexOf(NEWLINE, at);
  if (end < 0) end = haystack.length;
  return JSON.parse(haystack.subarray(at, end).toString("utf8")) as CorpusDocument;
}

/** The first line start where `{"doc_id":<token>,` begins, by native byte search. */
function searchLine(haystack: Buffer, token: Buffer): number | undefined {
  const prefix = Buffer.concat([DOC_ID_PREFIX, token, COMMA]);
  for (let at = haystack.indexOf(prefix); at >= 0; at = haystack.indexOf(prefix, at + 1))
    if (at === 0 || haystack[at - 1] === NEWLINE) return at;
  return undefined;
}

/**
 * Where each line of a snapshot starts, by the bytes of its `{"doc_id":<string>,` token (as a
 * latin1 string): the first line wins, as searchLine would find. Built once per snapshot, in one
 * pass of native newline searches.
 */
const lineStartsIn = new WeakMap<Uint8Array, Map<string, number>>();

function lineStarts(bytes: Uint8Array, haystack: Buffer): Map<string, number> {
  let table = lineStartsIn.get(bytes);
  if (table !== undefined) return table;
  table = new Map();
  for (let at = 0; at < haystack.length; ) {
    let end = haystack.indexOf(NEWLINE, at);
    if (end < 0) end = haystack.length;
    const token = docIdToken(haystack, at, end);
    if (token !== null && !table.has(token)) table.set(token, at);
    at = end + 1;
  }
  lineStartsIn.set(bytes, table);
  return table;
}

/** The JSON string after `{"doc_id":` on the line [at, end) when a comma follows it, as latin1; else null. */
function docIdToken(haystack: Buffer, at: number, end: number): string | null {
  const open = at + DOC_ID_PREFIX.length;
  if (
    open >= end ||
    haystack[open] !== QUOTE ||
    haystack.compare(DOC_ID_PREFIX, 0, DOC_ID_PREFIX.length, at, open) !== 0
  )
    return null;
  // A JSON string ends at its first quote that no backslash escapes.
  for (let i = open + 1; i < end; i++) {
    const b = haystack[i];
    if (b === BACKSLASH) i++;
    else if (b === QUOTE)
      return i + 1 < end && haystack[i + 1] === COMMA[0] ? haystack.toString("latin1", open, i + 1) : null;
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
