/**
 * Reads a corpus from disk: a JSONL file (optionally gzipped) streamed line by line, or a
 * folder of .txt/.md files whose doc id is the relative path. Every bad line is reported
 * with file and line; limits on bytes and documents stop oversized input early. Text follows
 * the one encoding rule of src/io/fs/user-text.ts: UTF-8, a leading BOM stripped, invalid bytes refused.
 */

import { isUtf8 } from "node:buffer";
import { createReadStream, type Dirent, readdirSync, readFileSync, type Stats, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import type { CorpusDocument } from "../../core/corpus/document.js";
import { parseCorpusLine } from "../../core/corpus/document.js";
import { CanonError, InputError } from "../../core/errors.js";
import { errnoInWords } from "../fs/fs-errors.js";
import { decodeFileText, decodeUtf8, kindOf, startsWithBom } from "../fs/user-text.js";

export interface CorpusLimits {
  max_bytes: number;
  max_documents: number;
  max_chunks: number;
}

export const DEFAULT_LIMITS: CorpusLimits = {
  max_bytes: 2 * 1024 ** 3,
  max_documents: 5_000_000,
  max_chunks: 20_000_000,
};

/** Bad lines reported before giving up: enough to fix a file in one pass, not a flood. */
const MAX_REPORTED_ERRORS = 20;
const FOLDER_EXTENSIONS = [".txt", ".md"];

export interface ReadCorpusResult {
  documents: CorpusDocument[];
  format: "jsonl" | "folder";
  textBytes: number;
}

function statOrFail(path: string): Stats {
  try {
    return statSync(path);
  } catch (error) {
    throw new InputError(
      "E_CORPUS_READ",
      `cannot read corpus: ${errnoInWords(error)}`,
      { file: path },
      error,
    );
  }
}

/**
 * The stat of a corpus path, which must be a regular file or a folder: a FIFO would block
 * forever and a device such as /dev/zero never ends, so neither is ever opened.
 */
export function statCorpus(path: string): Stats {
  const stat = statOrFail(path);
  if (!stat.isFile() && !stat.isDirectory()) {
    throw new InputError(
      "E_CORPUS_READ",
      `cannot read corpus: ${kindOf(stat)}; give a .jsonl(.gz) file or a folder`,
      { file: path },
    );
  }
  return stat;
}

export async function readCorpus(
  path: string,
  limits: CorpusLimits = DEFAULT_LIMITS,
): Promise<ReadCorpusResult> {
  const stat = statCorpus(path);
  const result = stat.isDirectory() ? readFolder(path, limits) : await readJsonl(path, limits);
  if (result.documents.length === 0) {
    throw new InputError("E_CORPUS_EMPTY", "the corpus has no documents", { file: path });
  }
  return result;
}

class Collector {
  readonly documents: CorpusDocument[] = [];
  readonly errors: InputError[] = [];
  private readonly firstLine = new Map<string, number>();
  textBytes = 0;

  constructor(
    private readonly file: string,
    private readonly limits: CorpusLimits,
  ) {}

  add(doc: CorpusDocument, line: number): void {
    const earlier = this.firstLine.get(doc.doc_id);
    if (earlier !== undefined) {
      this.errors.push(
        new InputError(
          "E_CORPUS_DUPLICATE",
          `duplicate doc_id ${JSON.stringify(doc.doc_id)} (first on line ${earlier})`,
          {
            file: this.file,
            line,
            field: "doc_id",
          },
        ),
      );
      return;
    }
    this.firstLine.set(doc.doc_id, line);
    this.textBytes += Buffer.byteLength(doc.text, "utf8");
    this.documents.push(doc);
    if (this.documents.length > this.limits.max_documents) {
      throw new InputError(
        "E_CORPUS_LIMIT",
        `more than ${this.limits.max_documents} documents (raise --max-documents)`,
        {
          file: this.file,
          line,
        },
      );
    }
    if (this.textBytes > this.limits.max_bytes) {
      throw new InputError(
        "E_CORPUS_LIMIT",
        `more than ${this.limits.max_bytes} bytes of text (raise --max-corpus-bytes)`,
        {
          file: this.file,
          line,
        },
      );
    }
  }

  /** Throws one error listing every bad line (up to a cap) when any was seen. */
  finish(): void {
    const first = this.errors[0];
    if (first === undefined) return;
    // One bad line is one line of output; several are listed under a summary.
    if (this.errors.length === 1) throw first;
    const shown = this.errors.slice(0, MAX_REPORTED_ERRORS).map((e) => `  ${e.describe()}`);
    const more =
      this.errors.length > MAX_REPORTED_ERRORS
        ? [`  ... and ${this.errors.length - MAX_REPORTED_ERRORS} more`]
        : [];
    const summary = `${this.errors.length} bad line(s) in the corpus:\n${[...shown, ...more].join("\n")}`;
    throw new InputError(first.code, summary, first.where);
  }
}

/**
 * The lines of a byte stream, split at LF (a CR before it is dropped), each with its 1-based
 * number and the byte offset where it starts. Bytes, not strings: the caller decodes each line
 * strictly, so invalid UTF-8 is reported where it is instead of silently becoming U+FFFD.
 */
async function* byteLines(input: Readable): AsyncGenerator<{ bytes: Buffer; line: number; start: number }> {
  let pending: Buffer[] = [];
  let lineStart = 0;
  let offset = 0;
  let line = 0;
  const emit = (parts: Buffer[]) => {
    let bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    line += 1;
    return { bytes, line, start: lineStart };
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
      pending.push(chunk.subarray(from, nl));
      yield emit(pending);
      pending = [];
      lineStart = offset + nl + 1;
      from = nl + 1;
    }
    if (from < chunk.length) pending.push(chunk.subarray(from));
    offset += chunk.length;
  }
  if (pending.some((p) => p.length > 0)) yield emit(pending);
}

async function readJsonl(path: string, limits: CorpusLimits): Promise<ReadCorpusResult> {
  const collector = new Collector(path, limits);
  // node:zlib only for a gzipped corpus: a run whose snapshot is cached never parses its corpus.
  const gunzip = path.endsWith(".gz") ? (await import("node:zlib")).createGunzip() : null;
  const raw = createReadStream(path);
  const input = gunzip === null ? raw : raw.pipe(gunzip);
  // A gunzip failure is emitted on the gunzip stream, a read failure on the file stream.
  raw.on("error", (error) => input.destroy(error));
  let lineNo = 0;
  try {
    for await (const { bytes, line, start } of byteLines(input)) {
      lineNo = line;
      // A UTF-8 byte order mark is stripped, as everywhere (docs/design.md §9).
      const body = line === 1 && startsWithBom(bytes) ? bytes.subarray(3) : bytes;
      try {
        const text = decodeUtf8(body, {
          code: "E_ENCODING",
          file: path,
          line,
          start: start + bytes.length - body.length,
        });
        if (text.trim() === "") continue;
        const doc = parseCorpusLine(text, path, line);
        collector.add(doc, line);
      } catch (error) {
        if (!(error instanceof InputError) || error.code === "E_CORPUS_LIMIT") throw error;
        collector.errors.push(error);
      }
    }
  } catch (error) {
    if (error instanceof CanonError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    // zlib reports "Z_DATA_ERROR" (not gzip) or "Z_BUF_ERROR" (truncated) for a bad .gz.
    const reason = code?.startsWith("Z_") ? `not a valid gzip file (${code})` : errnoInWords(error);
    throw new InputError(
      "E_CORPUS_READ",
      `cannot read corpus: ${reason}`,
      lineNo === 0 ? { file: path } : { file: path, line: lineNo },
      error,
    );
  }
  collector.finish();
  return { documents: collector.documents, format: "jsonl", textBytes: collector.textBytes };
}

/** Skipped files named in a message: enough to recognise the folder, not a flood. */
const SHOWN_SKIPPED = 5;

/**
 * What a folder corpus skipped, in words: how many files, the first few, and for a .pdf or a
 * .jsonl what to do instead. Empty when nothing was skipped.
 */
export function describeSkipped(skipped: readonly string[]): string {
  if (skipped.length === 0) return "";
  // A name with control characters is quoted: a file name never writes escapes to a terminal.
  const name = (f: string) => (/[\p{Cc},]/u.test(f) ? JSON.stringify(f) : f);
  const shown = skipped.slice(0, SHOWN_SKIPPED).map(name).join(", ");
  const more = skipped.length > SHOWN_SKIPPED ? `, and ${skipped.length - SHOWN_SKIPPED} more` : "";
  const hints: string[] = [];
  if (skipped.some((f) => /\.pdf$/i.test(f)))
    hints.push("PDF is not supported: convert it to .txt or .md, or give a .jsonl(.gz) corpus");
  if (skipped.some((f) => /\.jsonl(\.gz)?$/i.test(f)))
    hints.push("a .jsonl(.gz) corpus is read when given as the file itself (--corpus DIR/corpus.jsonl)");
  return `skipped ${skipped.length} file(s) that are not .txt or .md: ${shown}${more}${hints.length === 0 ? "" : `; ${hints.join("; ")}`}`;
}

/**
 * Relative paths of .txt/.md files under `root`, sorted by code unit; hidden entries skipped.
 * Other regular files are not read: their relative paths, sorted, go into `skipped` when given.
 */
export function listFolderDocuments(root: string, skipped?: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries: Dirent<Buffer>[];
    try {
      // Names as bytes: a name that is not UTF-8 would otherwise become U+FFFD and then ENOENT.
      entries = readdirSync(dir, { withFileTypes: true, encoding: "buffer" });
    } catch (error) {
      throw new InputError("E_CORPUS_READ", `cannot list folder: ${errnoInWords(error)}`, {
        file: dir,
      });
    }
    for (const entry of entries) {
      if (entry.name[0] === 0x2e) continue; // hidden: ".name"
      if (!isUtf8(entry.name)) {
        throw new InputError("E_ENCODING", "file name is not valid UTF-8; doc ids are UTF-8 paths", {
          file: join(dir, entry.name.toString("utf8")),
        });
      }
      const name = entry.name.toString("utf8");
      const full = join(dir, name);
      if (entry.isDirectory()) walk(full);
      else if (FOLDER_EXTENSIONS.some((ext) => name.endsWith(ext))) {
        if (entry.isFile()) found.push(relative(root, full).split(sep).join("/"));
        // Symbolic links are skipped as before; a FIFO or a device would block or never end.
        else if (!entry.isSymbolicLink()) {
          throw new InputError(
            "E_CORPUS_READ",
            `${kindOf(entry)} in a corpus folder; only regular files are read`,
            {
              file: full,
            },
          );
        }
      } else if (entry.isFile()) skipped?.push(relative(root, full).split(sep).join("/"));
    }
  };
  walk(root);
  skipped?.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The documents of a folder corpus, refusing a folder with none (naming what it skipped), and
 * the skipped files' description for a warning ("" when nothing was skipped).
 */
export function folderDocuments(root: string): { documents: string[]; skipped: string } {
  const skipped: string[] = [];
  const documents = listFolderDocuments(root, skipped);
  const described = describeSkipped(skipped);
  if (documents.length === 0)
    throw new InputError(
      "E_CORPUS_EMPTY",
      `the folder has no .txt or .md document${described === "" ? "" : `: ${described}`}`,
      { file: root },
    );
  return { documents, skipped: described };
}

function readFolder(root: string, limits: CorpusLimits): ReadCorpusResult {
  const collector = new Collector(root, limits);
  for (const docId of folderDocuments(root).documents) {
    const file = join(root, docId);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new InputError("E_CORPUS_READ", `cannot read: ${errnoInWords(error)}`, {
        file,
      });
    }
    const text = decodeFileText(bytes, "E_ENCODING", file);
    collector.add({ doc_id: docId, text }, 1);
  }
  collector.finish();
  return { documents: collector.documents, format: "folder", textBytes: collector.textBytes };
}
