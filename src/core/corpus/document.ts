/**
 * Corpus documents and the snapshot format. A snapshot is one JCS line per document, in
 * input order, so its sha256 pins the exact text every evidence span points into, and a
 * document can be found by scanning line prefixes without parsing the whole snapshot.
 */
import { canonicalJson } from "../canonical.js";
import { InputError } from "../errors.js";

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
  return doc;
}

export function snapshotLine(doc: CorpusDocument): string {
  return `${canonicalJson(doc)}\n`;
}

const LINE_PREFIX = Buffer.from('{"doc_id":', "utf8");
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

/** Reads the JSON string literal of the doc id at the start of a snapshot line. */
function docIdAt(bytes: Uint8Array, lineStart: number): { id: string; end: number } | null {
  for (let i = 0; i < LINE_PREFIX.length; i++) if (bytes[lineStart + i] !== LINE_PREFIX[i]) return null;
  const open = lineStart + LINE_PREFIX.length;
  if (bytes[open] !== QUOTE) return null;
  let i = open + 1;
  while (i < bytes.length && bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1;
  if (i >= bytes.length) return null;
  return { id: JSON.parse(Buffer.from(bytes.subarray(open, i + 1)).toString("utf8")) as string, end: i + 1 };
}

/** Calls `visit` with each line's doc id and byte range; stops early when it returns false. */
export function scanSnapshot(
  bytes: Uint8Array,
  visit: (docId: string, start: number, end: number) => boolean,
): void {
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end < 0) end = bytes.length;
    const id = docIdAt(bytes, start);
    if (id !== null && !visit(id.id, start, end)) return;
    start = end + 1;
  }
}

/** The requested documents of a snapshot, parsed; ids that are absent are simply missing from the map. */
export function findDocuments(bytes: Uint8Array, docIds: readonly string[]): Map<string, CorpusDocument> {
  const wanted = new Set(docIds);
  const found = new Map<string, CorpusDocument>();
  if (wanted.size === 0) return found;
  scanSnapshot(bytes, (docId, start, end) => {
    if (wanted.has(docId) && !found.has(docId)) {
      found.set(
        docId,
        JSON.parse(Buffer.from(bytes.subarray(start, end)).toString("utf8")) as CorpusDocument,
      );
    }
    return found.size < wanted.size;
  });
  return found;
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
