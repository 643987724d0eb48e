/**
 * A corpus as the store keeps it: its snapshot, the accepted documents one JSON line each,
 * stored once under its sha256 and found again by a digest of the raw input (so an unchanged
 * corpus is not re-read), and read back from the store checked to be a snapshot.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, sha256Hex } from "../../core/canonical.js";
import type { CorpusRef } from "../../core/corpus/corpus-ref.js";
import {
  type CorpusDocument,
  findDocuments,
  readSnapshot,
  snapshotLine,
} from "../../core/corpus/document.js";
import { CanonError, InputError } from "../../core/errors.js";
import type { DiskStore } from "../store/content-store.js";
import { type CorpusLimits, folderDocuments, readCorpus, statCorpus } from "./corpus-reader.js";

export interface ResolvedSnapshot {
  hash: string;
  /** Parsed documents when the snapshot was just built (saves a re-parse for indexing). */
  documents: CorpusDocument[] | null;
}

/** Bumped whenever the reader could turn the same input into different snapshot bytes. */
// "2": invalid UTF-8 in JSONL is refused (it was replaced with U+FFFD), a BOM is stripped.
const CORPUS_READER_VERSION = "2";

/**
 * sha256 of a file read in 256 KiB pieces, so a corpus is not held in memory only to be hashed;
 * a piece that fits the CPU's cache is hashed faster than a 1 MiB one (about 0.4 ms of SciFact).
 */
function sha256File(path: string): string {
  const hash = createHash("sha256");
  const piece = Buffer.allocUnsafe(1 << 18);
  const fd = openSync(path, "r");
  try {
    let read = readSync(fd, piece, 0, piece.length, null);
    while (read > 0) {
      hash.update(piece.subarray(0, read));
      read = readSync(fd, piece, 0, piece.length, null);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** Digest of the raw input: the file bytes, or every path and file hash of a folder. */
function inputDigest(path: string): string {
  // Only a regular file or a folder: a FIFO or a device is refused before it is opened.
  if (statCorpus(path).isDirectory()) {
    // Every time, cached or not: a folder with no document is refused, skipped files are named.
    const { documents, skipped } = folderDocuments(path);
    if (skipped !== "") process.stderr.write(`canon-reason: warning: corpus folder ${path}: ${skipped}\n`);
    const entries = documents.map((rel) => [rel, sha256Hex(readFileSync(join(path, rel)))]);
    return sha256Hex(canonicalJson({ folder: entries }));
  }
  return sha256File(path);
}

/** Snapshots the corpus at `path` into the store once; later calls with the same bytes hit the cache. */
export async function snapshotCorpus(
  store: DiskStore,
  path: string,
  limits: CorpusLimits,
): Promise<ResolvedSnapshot> {
  let digest: string;
  try {
    digest = inputDigest(path);
  } catch (error) {
    if (error instanceof CanonError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new InputError("E_CORPUS_READ", `cannot read corpus (${code})`, { file: path }, error);
  }
  const made = { input_sha256: digest, reader: CORPUS_READER_VERSION, limits: { ...limits } };
  const refName = `corpus-input/${sha256Hex(canonicalJson(made))}`;
  // Followed only when its record names exactly this input (a retargeted ref is not).
  const cached = store.readCheckedRef(refName, made);
  if (cached !== null) return { hash: cached, documents: null };
  const { documents } = await readCorpus(path, limits);
  // One Buffer per line, not one string: a large corpus exceeds V8's maximum string length.
  const hash = store.put(Buffer.concat(documents.map((d) => Buffer.from(snapshotLine(d), "utf8"))), true);
  store.writeCheckedRef(refName, made, hash);
  return { hash, documents };
}

/** A snapshot's bytes from the store: E_STORE_MISSING when absent, E_NOT_A_SNAPSHOT when they are not one. */
export function loadSnapshot(store: DiskStore, hash: string): Uint8Array {
  const bytes = store.get(hash);
  if (bytes === null) {
    throw new InputError(
      "E_STORE_MISSING",
      `corpus snapshot sha256:${hash} is not in the store at ${store.root}`,
      {
        field: "constraints.corpus",
      },
    );
  }
  // Any object in the store can be named by its hash; only a snapshot starts with a document
  // line (an index starts "CRBM25"). Checked before anything parses it.
  if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(0, 10).equals(SNAPSHOT_START)) {
    throw new InputError(
      "E_NOT_A_SNAPSHOT",
      `sha256:${hash} is in the store but is not a corpus snapshot (an index or other object?)`,
      { field: "constraints.corpus" },
    );
  }
  return bytes;
}

/** The documents of a stored snapshot; an object that only looks like one is bad input. */
function parseSnapshot(bytes: Uint8Array, hash: string): CorpusDocument[] {
  try {
    return [...readSnapshot(bytes)];
  } catch (error) {
    throw new InputError(
      "E_NOT_A_SNAPSHOT",
      `sha256:${hash} is not a corpus snapshot (${(error as Error).message})`,
      { field: "constraints.corpus" },
      error,
    );
  }
}

/** Every snapshot line, hence every snapshot, begins with this (see snapshotLine). */
const SNAPSHOT_START = Buffer.from('{"doc_id":', "utf8");

/** A snapshot in the store, read when first needed and parsed only when asked for its documents. */
export class StoredSnapshot {
  private read: Uint8Array | null = null;

  constructor(
    private readonly store: DiskStore,
    readonly hash: string,
    /** The documents when the snapshot was just made from them (saves a re-parse for indexing). */
    private readonly parsed: CorpusDocument[] | null = null,
  ) {}

  /** Its bytes, read once: E_STORE_MISSING when absent, E_NOT_A_SNAPSHOT when they are not one. */
  bytes(): Uint8Array {
    this.read ??= loadSnapshot(this.store, this.hash);
    return this.read;
  }

  documents(): CorpusDocument[] {
    return this.parsed ?? parseSnapshot(this.bytes(), this.hash);
  }

  /** The texts of these documents, as UTF-8 bytes (the retrieve tool's evidence). */
  texts(docIds: readonly string[]): Map<string, Uint8Array> {
    const found = findDocuments(this.bytes(), docIds);
    return new Map([...found].map(([id, doc]) => [id, Buffer.from(doc.text, "utf8")]));
  }
}

/** The corpus as a stored snapshot: a path is snapshotted into the store (snapshotCorpus), a pinned hash taken as it is. */
export async function storedSnapshot(
  store: DiskStore,
  corpus: CorpusRef,
  limits: CorpusLimits,
): Promise<StoredSnapshot> {
  if (corpus.kind === "snapshot") return new StoredSnapshot(store, corpus.hash);
  const made = await snapshotCorpus(store, corpus.path, limits);
  return new StoredSnapshot(store, made.hash, made.documents);
}
