/**
 * The bundle layout (see bundle.ts): its header, the paths an entry may have, the size bounds
 * import holds a bundle to, and how export writes a reproducible gzip-compressed tar.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { createGzip } from "node:zlib";
import { Header } from "tar";
import * as z from "zod";
import { RUN_FILES } from "../../core/artifact/files.js";
import { pinnedObjects } from "../../core/artifact/names.js";
import { toRunView } from "../../core/artifact/view.js";
import { InputError } from "../../core/errors.js";
import { idOf } from "../../core/models/common.js";
import { checkOutputFile } from "../fs/output.js";
import { tempSuffix } from "./run-writer.js";

export const HEADER_ENTRY = "canon-reason-bundle.json";
export const BundleHeader = z.strictObject({
  format: z.literal("canon-reason-bundle"),
  version: z.literal(1),
  run_id: idOf("run"),
});

/** The run layout's own paths, and nothing else: no "..", no absolute paths, no volatile/. */
export const RUN_PATH =
  /^(spec|plan|report|answer|run|manifest|signature)\.json$|^trace\.jsonl$|^evidence\/[0-9a-f]{64}\.txt$|^model\/[0-9a-f]{64}\.json$|^provenance\/[a-z]+\.json$/;
export const OBJECT_PATH = /^store\/sha256\/([0-9a-f]{64})$/;

/** Size bounds applied while streaming; a bundle past any of them is refused, not buffered. */
export interface BundleLimits {
  /** Entries in the archive (run files + objects + header). */
  maxEntries: number;
  /** One run file; run files are held in memory until the run is written. */
  maxRunFileBytes: number;
  /** All run files together. */
  maxRunBytes: number;
  /** One store object (streamed to disk, never held in memory). */
  maxObjectBytes: number;
  /** All entries together. */
  maxTotalBytes: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxEntries: 100_000,
  maxRunFileBytes: 64 * 1024 ** 2,
  maxRunBytes: 512 * 1024 ** 2,
  // A corpus may reach 2 GiB (corpus-reader DEFAULT_LIMITS); its index is of the same order.
  maxObjectBytes: 8 * 1024 ** 3,
  maxTotalBytes: 16 * 1024 ** 3,
};

/** The store objects a run pins, from its run.json bytes (null when they do not parse yet). */
export function referencedBy(runJson: Uint8Array | undefined): Set<string> | null {
  if (runJson === undefined || runJson.length === 0) return null;
  const run = toRunView(new Map([[RUN_FILES.run, runJson]])).view.run;
  return run === null ? null : new Set(pinnedObjects(run));
}

const EPOCH = new Date(0);

/** One tar entry: a 512-byte ustar header, the bytes, zero padding to a 512-byte block. */
export function tarEntry(path: string, bytes: Uint8Array): Buffer[] {
  const header = new Header({
    path,
    type: "File",
    size: bytes.length,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: EPOCH,
  });
  // Every path we write is short and ASCII, so a plain ustar header always holds it.
  if (header.encode() || header.block === undefined) throw new Error(`tar path needs a pax header: ${path}`);
  const padding = (512 - (bytes.length % 512)) % 512;
  return [header.block, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), Buffer.alloc(padding)];
}

/** Streams `chunks` through gzip into `out`, via a temporary file renamed into place. */
export async function writeGzipAtomic(out: string, chunks: Iterable<Buffer>): Promise<number> {
  const cannotWrite = (error: unknown) =>
    new InputError(
      "E_EXPORT_TARGET",
      `cannot write the bundle (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { file: out },
    );
  checkOutputFile(out, "-o", "E_EXPORT_TARGET");
  const tmp = `${out}.tmp-${tempSuffix()}`;
  let fd: number;
  try {
    fd = openSync(tmp, "wx", 0o644);
  } catch (error) {
    throw cannotWrite(error);
  }
  let written = 0;
  try {
    const gzip = createGzip();
    const done = new Promise<void>((resolve, reject) => {
      gzip.on("data", (chunk: Buffer) => {
        writeSync(fd, chunk);
        written += chunk.length;
      });
      gzip.on("end", resolve);
      gzip.on("error", reject);
    });
    for (const chunk of chunks) {
      if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once("drain", resolve));
    }
    gzip.end();
    await done;
    closeSync(fd);
    renameSync(tmp, out);
    return written;
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
    rmSync(tmp, { force: true });
    throw error instanceof InputError ? error : cannotWrite(error);
  }
}
