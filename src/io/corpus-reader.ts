/**
 * Reads a corpus from disk: a JSONL file (optionally gzipped) streamed line by line, or a
 * folder of .txt/.md files whose doc id is the relative path. Every bad line is reported
 * with file and line; limits on bytes and documents stop oversized input early.
 */
import { createReadStream, type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import type { CorpusDocument } from "../core/corpus/document.js";
import { parseCorpusLine } from "../core/corpus/document.js";
import { CanonError, InputError } from "../core/errors.js";

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

function statOrFail(path: string) {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new InputError("E_CORPUS_READ", `cannot read corpus (${code})`, { file: path }, error);
  }
}

export async function readCorpus(
  path: string,
  limits: CorpusLimits = DEFAULT_LIMITS,
): Promise<ReadCorpusResult> {
  const stat = statOrFail(path);
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
    const shown = this.errors.slice(0, MAX_REPORTED_ERRORS).map((e) => `  ${e.describe()}`);
    const more =
      this.errors.length > MAX_REPORTED_ERRORS
        ? [`  ... and ${this.errors.length - MAX_REPORTED_ERRORS} more`]
        : [];
    const summary = `${this.errors.length} bad line(s) in the corpus:\n${[...shown, ...more].join("\n")}`;
    throw new InputError(first.code, summary, first.where);
  }
}

async function readJsonl(path: string, limits: CorpusLimits): Promise<ReadCorpusResult> {
  const collector = new Collector(path, limits);
  const raw = createReadStream(path);
  const input = path.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo += 1;
      if (line.trim() === "") continue;
      try {
        collector.add(parseCorpusLine(line, path, lineNo), lineNo);
      } catch (error) {
        if (!(error instanceof InputError) || error.code === "E_CORPUS_LIMIT") throw error;
        collector.errors.push(error);
      }
    }
  } catch (error) {
    if (error instanceof CanonError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InputError(
      "E_CORPUS_READ",
      `cannot read corpus (${code})`,
      { file: path, line: lineNo },
      error,
    );
  }
  collector.finish();
  return { documents: collector.documents, format: "jsonl", textBytes: collector.textBytes };
}

/** Relative paths of .txt/.md files under `root`, sorted by code unit; hidden entries skipped. */
export function listFolderDocuments(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      throw new InputError("E_CORPUS_READ", `cannot list folder (${(error as NodeJS.ErrnoException).code})`, {
        file: dir,
      });
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && FOLDER_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
        found.push(relative(root, full).split(sep).join("/"));
      }
    }
  };
  walk(root);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function readFolder(root: string, limits: CorpusLimits): ReadCorpusResult {
  const collector = new Collector(root, limits);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (const docId of listFolderDocuments(root)) {
    const file = join(root, docId);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new InputError("E_CORPUS_READ", `cannot read (${(error as NodeJS.ErrnoException).code})`, {
        file,
      });
    }
    try {
      collector.add({ doc_id: docId, text: decoder.decode(bytes) }, 1);
    } catch (error) {
      if (error instanceof CanonError) throw error;
      throw new InputError("E_CORPUS_READ", "not valid UTF-8 text", { file });
    }
  }
  collector.finish();
  return { documents: collector.documents, format: "folder", textBytes: collector.textBytes };
}
