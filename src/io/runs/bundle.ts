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
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { createGunzip, createGzip } from "node:zlib";
import { Header, Parser, type ReadEntry } from "tar";
import * as z from "zod";
import { RUN_FILES } from "../../core/artifact/files.js";
import { pinnedObjects } from "../../core/artifact/names.js";
import { toRunView } from "../../core/artifact/view.js";
import { sha256Hex } from "../../core/canonical.js";
import { InputError } from "../../core/errors.js";
import { idOf } from "../../core/models/common.js";
import type { VerificationReport } from "../../core/models/verification-report.js";
import type { StoreReader } from "../../core/verify/check.js";
import { checkOutputFile } from "../fs/output.js";
import { kindOf } from "../fs/user-text.js";
import { DiskStore } from "../store/content-store.js";
import { sweepOnce, sweepStagingDebris } from "../store/debris.js";
import { openRun, requireParts } from "./run-reader.js";
import { tempSuffix, writeRun } from "./run-writer.js";

const HEADER_ENTRY = "canon-reason-bundle.json";
const BundleHeader = z.strictObject({
  format: z.literal("canon-reason-bundle"),
  version: z.literal(1),
  run_id: idOf("run"),
});

/** The run layout's own paths, and nothing else: no "..", no absolute paths, no volatile/. */
const RUN_PATH =
  /^(spec|plan|report|answer|run|manifest|signature)\.json$|^trace\.jsonl$|^evidence\/[0-9a-f]{64}\.txt$|^model\/[0-9a-f]{64}\.json$|^provenance\/[a-z]+\.json$/;
const OBJECT_PATH = /^store\/sha256\/([0-9a-f]{64})$/;

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

const EPOCH = new Date(0);

/** One tar entry: a 512-byte ustar header, the bytes, zero padding to a 512-byte block. */
function tarEntry(path: string, bytes: Uint8Array): Buffer[] {
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
async function writeGzipAtomic(out: string, chunks: Iterable<Buffer>): Promise<number> {
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

interface ReadBundle {
  runId: string;
  files: Map<string, Uint8Array>;
  /** sha256 -> a checked file in the staging folder, to be renamed into the store. */
  objects: Map<string, string>;
  /** Objects in the bundle the run does not reference: not kept. */
  skipped: number;
}

/** The store objects a run pins, from its run.json bytes (null when they do not parse yet). */
function referencedBy(runJson: Uint8Array | undefined): Set<string> | null {
  if (runJson === undefined || runJson.length === 0) return null;
  const run = toRunView(new Map([[RUN_FILES.run, runJson]])).view.run;
  return run === null ? null : new Set(pinnedObjects(run));
}

/**
 * Opens the bundle file for reading. Only a regular file is opened: a FIFO would block the
 * open until a writer came, a device never ends. stat first, then an O_NONBLOCK open whose
 * fstat must still be a regular file (a swap in between is refused, never read).
 */
function openBundleFile(bundle: string, bad: (message: string) => InputError): number {
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(bundle);
  } catch (e) {
    throw bad(`cannot read (${code(e)})`);
  }
  if (st.isDirectory()) throw bad("cannot read (EISDIR)");
  if (!st.isFile()) throw bad(`${kindOf(st)}, not a bundle file (never opened)`);
  let fd: number;
  try {
    fd = openSync(bundle, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw bad(`cannot read (${code(e)})`);
  }
  const opened = fstatSync(fd);
  if (!opened.isFile()) {
    closeSync(fd);
    throw bad(`${kindOf(opened)}, not a bundle file (not read)`);
  }
  return fd;
}

/** A refused entry type, named as a user would say it. */
const ENTRY_KINDS: Record<string, string> = {
  SymbolicLink: "a symlink",
  Link: "a hardlink",
  CharacterDevice: "a device",
  BlockDevice: "a device",
  FIFO: "a FIFO",
  Directory: "a directory",
};

/**
 * Reads and checks a bundle as a stream (every byte is attacker-controlled input: any problem
 * is an E_BUNDLE_INVALID, never a crash). Store objects stream into `staging`, except those the
 * run (once its run.json is read) does not reference; the caller publishes or removes them.
 */
function readBundle(bundle: string, staging: string, limits: BundleLimits): Promise<ReadBundle> {
  const bad = (message: string) => new InputError("E_BUNDLE_INVALID", message, { file: bundle });
  const files = new Map<string, Uint8Array>();
  const objects = new Map<string, string>();
  let skipped = 0;
  let referenced: Set<string> | null = null;
  let runId: string | null = null;
  let entries = 0;
  let runBytes = 0;
  let totalBytes = 0;
  let inflated = 0;
  // Headers, pax records and padding on top of the entry bytes themselves.
  const maxInflated = limits.maxTotalBytes + (limits.maxEntries + 2) * 2048;

  return new Promise<ReadBundle>((resolve, reject) => {
    let settled = false;
    let fd: number;
    try {
      fd = openBundleFile(bundle, bad);
    } catch (error) {
      return reject(error);
    }
    const source = createReadStream("", { fd });
    const gunzip = createGunzip();
    const parser = new Parser({ strict: true, brotli: false });
    const cleanup = () => {
      for (const tmp of objects.values()) rmSync(tmp, { force: true });
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      source.destroy();
      gunzip.destroy();
      cleanup();
      reject(error instanceof InputError ? error : bad(`not a valid bundle (${String(error)})`));
    };
    const finish = () => {
      if (settled) return;
      if (runId === null) return fail(bad("not a canon-reason bundle: no bundle header"));
      if (!files.has(RUN_FILES.manifest)) return fail(bad("no run in the bundle"));
      // The directory name comes from the run itself, so a header cannot file a run under another id.
      if (toRunView(files).view.run?.run_id !== runId)
        return fail(bad(`run.json does not name the run ${runId}`));
      settled = true;
      resolve({ runId, files, objects, skipped });
    };

    const collect = (entry: ReadEntry, done: (bytes: Buffer) => void) => {
      const chunks: Buffer[] = [];
      entry.on("data", (chunk: Buffer) => chunks.push(chunk));
      entry.on("end", () => {
        if (!settled) done(Buffer.concat(chunks));
      });
    };

    const onEntry = (entry: ReadEntry) => {
      const path = entry.path;
      const size = entry.size;
      entries++;
      totalBytes += size;
      if (entries > limits.maxEntries) throw bad(`more than ${limits.maxEntries} entries`);
      if (totalBytes > limits.maxTotalBytes)
        throw bad(`entries exceed ${limits.maxTotalBytes} bytes in total`);
      if (entry.type !== "File" && entry.type !== "OldFile")
        throw bad(
          `refusing ${ENTRY_KINDS[entry.type] ?? `a ${entry.type} entry`} at ${JSON.stringify(path)}`,
        );
      if (path.startsWith("/") || path.split(/[/\\]/).includes("..") || path.includes("\\"))
        throw bad(`refusing path ${JSON.stringify(path)}`);
      if (entries === 1) {
        if (path !== HEADER_ENTRY)
          throw bad(`not a canon-reason bundle: first entry is ${JSON.stringify(path)}`);
        if (size > 64 * 1024) throw bad("bundle header too large");
        return collect(entry, (bytes) => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(bytes.toString("utf8"));
          } catch {
            return fail(bad("unreadable bundle header"));
          }
          // The header is attacker-controlled: a schema failure is a finding, never a crash.
          const header = BundleHeader.safeParse(parsed);
          if (!header.success) return fail(bad("invalid bundle header"));
          runId = header.data.run_id;
        });
      }
      if (path.startsWith("run/")) {
        const rel = path.slice(4);
        if (!RUN_PATH.test(rel)) throw bad(`refusing path ${JSON.stringify(path)}`);
        if (files.has(rel)) throw bad(`${rel} appears twice`);
        if (size > limits.maxRunFileBytes)
          throw bad(`${path} is larger than ${limits.maxRunFileBytes} bytes`);
        runBytes += size;
        if (runBytes > limits.maxRunBytes) throw bad(`run files exceed ${limits.maxRunBytes} bytes`);
        files.set(rel, new Uint8Array());
        return collect(entry, (bytes) => files.set(rel, bytes));
      }
      const hash = OBJECT_PATH.exec(path)?.[1];
      if (hash === undefined) throw bad(`refusing path ${JSON.stringify(path)}`);
      if (objects.has(hash)) throw bad(`${path} appears twice`);
      if (size > limits.maxObjectBytes) throw bad(`${path} is larger than ${limits.maxObjectBytes} bytes`);
      // run/ entries come first (export writes them so): an object the run does not pin is not written.
      referenced ??= referencedBy(files.get(RUN_FILES.run));
      if (referenced !== null && !referenced.has(hash)) {
        skipped++;
        entry.resume();
        return;
      }
      const tmp = join(staging, hash);
      const fd = openSync(tmp, "wx", 0o644);
      objects.set(hash, tmp);
      const digest = createHash("sha256");
      entry.on("data", (chunk: Buffer) => {
        if (settled) return;
        try {
          digest.update(chunk);
          writeSync(fd, chunk);
        } catch (error) {
          fail(error);
        }
      });
      entry.on("end", () => {
        closeSync(fd);
        if (!settled && digest.digest("hex") !== hash) fail(bad(`object ${hash} does not match its sha256`));
      });
    };

    parser.on("entry", (entry: ReadEntry) => {
      if (settled) return entry.resume();
      try {
        onEntry(entry);
      } catch (error) {
        entry.resume();
        fail(error instanceof InputError ? error : bad(`cannot unpack (${String(error)})`));
      }
    });
    parser.on("error", (error: Error) => fail(bad(`not a valid tar archive: ${error.message}`)));
    // Two zero blocks end the archive: stop reading, whatever follows (a bomb of zeros).
    parser.on("eof", () => {
      source.destroy();
      gunzip.destroy();
      finish();
    });
    parser.on("end", finish);
    source.on("error", (error: NodeJS.ErrnoException) =>
      fail(bad(`cannot read (${error.code ?? "unknown error"})`)),
    );
    gunzip.on("error", () => fail(bad("not a gzip file, or a truncated or damaged one")));
    let first = true;
    gunzip.on("data", (chunk: Buffer) => {
      if (settled) return;
      inflated += chunk.length;
      if (inflated > maxInflated) return fail(bad(`decompresses to more than ${maxInflated} bytes`));
      // The tar parser would transparently unpack a nested gzip/zstd stream past our counter.
      if (first && (chunk[0] === 0x1f || chunk[0] === 0x28))
        if (
          chunk.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])) ||
          chunk.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))
        )
          return fail(bad("not a tar archive inside the gzip"));
      first = false;
      if (!parser.write(chunk)) {
        gunzip.pause();
        parser.once("drain", () => gunzip.resume());
      }
    });
    gunzip.on("end", () => {
      if (!settled) parser.end();
    });
    source.pipe(gunzip);
  });
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
