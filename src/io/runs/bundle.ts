/**
 * Run bundles: one self-contained file holding a run and the store objects it references
 * (corpus snapshot, index), so `verify` and `replay --live` work on another machine.
 *
 * Layout: a standard gzip-compressed POSIX tar (`tar -tzf run.tar.gz` lists it), regular
 * files only, in this order:
 *
 *     canon-reason-bundle.json     {"format":"canon-reason-bundle","run_id":"run_…","version":1}
 *     run/<path>                   each run file (spec.json, …, evidence/<sha256>.txt,
 *                                  model/<sha256>.json, provenance/*.json, manifest.json,
 *                                  signature.json); no volatile/
 *     store/sha256/<64 hex>        each store object the run references, named by its sha256
 *
 * Entries carry fixed metadata (mode 0644, uid/gid 0, mtime 0), so the same run exports to
 * the same bytes.
 *
 * Import trusts nothing and reads the bundle as a stream with bounded sizes (entry count,
 * per-entry and total bytes, decompressed bytes): every path is checked against the layout,
 * anything but a regular file (symlink, hardlink, device, directory) is refused, the header
 * is schema-checked, run.json must name the same run, and every object is re-hashed while it
 * streams into a staging folder (`<root>/.staging-import-<pid>-<rand>/`). The bundle file itself
 * must be a regular file: a FIFO, socket or device is refused without being opened.
 *
 * Nothing is published before the run has been verified over the staged objects (issue 19): a
 * run that fails is reported and nothing of it reaches runs/ or the store. Only objects the run
 * references are kept; any other object in the bundle is skipped (not written, or dropped from
 * the staging folder). A sound differing run already in place is never overwritten.
 */
import { mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { RUN_FILES } from "../../core/artifact/files.js";
import { pinnedObjects } from "../../core/artifact/names.js";
import { sha256Hex } from "../../core/canonical.js";
import { InputError } from "../../core/errors.js";
import type { VerificationReport } from "../../core/models/verification-report.js";
import type { StoreReader } from "../../core/verify/check.js";
import { DiskStore } from "../store/content-store.js";
import { sweepOnce, sweepStagingDebris } from "../store/debris.js";
import {
  type BundleLimits,
  DEFAULT_BUNDLE_LIMITS,
  HEADER_ENTRY,
  referencedBy,
  tarEntry,
  writeGzipAtomic,
} from "./bundle-format.js";
import { readBundle } from "./bundle-reader.js";
import { openRun, requireParts } from "./run-reader.js";
import { tempSuffix, writeRun } from "./run-writer.js";

export { type BundleLimits, DEFAULT_BUNDLE_LIMITS } from "./bundle-format.js";

export async function exportRun(
  runDir: string,
  storeRoot: string,
  out: string,
): Promise<{ runId: string; files: number; objects: number; bytes: number }> {
  const opened = openRun(runDir);
  const { files } = opened;
  const { run } = requireParts(opened, ["run"]);
  const store = new DiskStore(storeRoot);
  const objects = pinnedObjects(run);
  // Check every object is there before writing anything.
  for (const hash of objects)
    if (!store.has(hash))
      throw new InputError(
        "E_STORE_MISSING",
        `store object sha256:${hash} referenced by the run is not in ${store.root}`,
        { file: runDir },
      );
  const header = { format: "canon-reason-bundle", version: 1, run_id: run.run_id };
  function* chunks(): Generator<Buffer> {
    yield* tarEntry(HEADER_ENTRY, Buffer.from(`${JSON.stringify(header)}\n`, "utf8"));
    for (const [path, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1)))
      yield* tarEntry(`run/${path}`, bytes);
    for (const hash of objects) {
      const bytes = store.get(hash);
      if (bytes === null) throw new Error(`store object ${hash} disappeared during export`);
      yield* tarEntry(`store/sha256/${hash}`, bytes);
    }
    // End of archive: two zero blocks.
    yield Buffer.alloc(1024);
  }
  const bytes = await writeGzipAtomic(out, chunks());
  return { runId: run.run_id, files: files.size, objects: objects.length, bytes };
}

export interface ImportOptions {
  /**
   * True when the run at `runDir` verifies. A differing run already in place is replaced only
   * when it does not: import repairs a damaged run but never replaces a sound one (signed or
   * not) with a different one. Without it, any differing run is refused.
   */
  isSound?: (runDir: string) => boolean;
  /**
   * Verifies the bundle's run before anything is published: its files, over a store that holds
   * the staged objects in front of the artifacts root's own. Only a passing run is published.
   */
  verify: (files: ReadonlyMap<string, Uint8Array>, store: StoreReader, runId: string) => VerificationReport;
  limits?: BundleLimits;
}

export interface ImportResult {
  runId: string;
  /** Where the run is (or would have been, when it was not published). */
  runDir: string;
  /** True when the run passed verification and is in runs/ now. */
  published: boolean;
  created: boolean;
  /** Store objects the run references that the bundle held. */
  objects: number;
  /** Objects in the bundle the run does not reference: not kept. */
  skipped: number;
  report: VerificationReport;
}

/** The staged objects in front of the store: what the run would see once published. */
function stagedStore(objects: ReadonlyMap<string, string>, store: DiskStore): StoreReader {
  return {
    get(hash) {
      const staged = objects.get(hash);
      if (staged === undefined) return store.get(hash);
      // Hashed while it streamed in; re-hashed here all the same, as every store read is.
      const bytes = readFileSync(staged);
      return sha256Hex(bytes) === hash ? bytes : store.get(hash);
    },
  };
}

export async function importRun(
  bundle: string,
  artifactsRoot: string,
  options: ImportOptions,
): Promise<ImportResult> {
  const store = new DiskStore(artifactsRoot);
  // A staging folder under the root (same file system as the store: objects are renamed in).
  sweepOnce(`staging:${artifactsRoot}`, () => sweepStagingDebris(artifactsRoot));
  const staging = join(artifactsRoot, `.staging-import-${tempSuffix()}`);
  try {
    mkdirSync(staging, { recursive: true });
  } catch (error) {
    throw new InputError(
      "E_OUTPUT",
      `cannot make a staging folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { file: artifactsRoot, field: "--artifacts-dir" },
    );
  }
  try {
    const read = await readBundle(bundle, staging, options.limits ?? DEFAULT_BUNDLE_LIMITS);
    const { runId, files } = read;
    // Objects streamed before run.json could be read: keep only those the run pins.
    const referenced = referencedBy(files.get(RUN_FILES.run)) ?? new Set<string>();
    const objects = new Map([...read.objects].filter(([hash]) => referenced.has(hash)));
    const skipped = read.skipped + read.objects.size - objects.size;
    const report = options.verify(files, stagedStore(objects, store), runId);
    const runDir = join(artifactsRoot, "runs", runId);
    const result = { runId, runDir, objects: objects.size, skipped, report };
    if (report.verdict !== "pass") return { ...result, published: false, created: false };
    for (const [hash, staged] of objects) {
      // Checked against its sha256 while streaming; an object already there is the same bytes.
      if (store.has(hash)) continue;
      const target = store.objectPath(hash);
      mkdirSync(dirname(target), { recursive: true });
      renameSync(staged, target);
    }
    const written = writeRun(artifactsRoot, runId, files, {
      beforeReplace: (existing) => {
        if (options.isSound?.(existing) === false) return;
        throw new InputError(
          "E_BUNDLE_INVALID",
          "a different run with this id already exists and verifies; refusing to overwrite it",
          { file: existing },
        );
      },
    });
    return { ...result, runDir: written.runDir, published: true, created: written.created };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
