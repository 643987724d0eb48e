/**
 * Writes a produced run to `runs/<run_id>/` (docs/design.md §4): into a temporary directory first,
 * renamed into place only when complete, so a reader never sees half a run at `runs/<id>`
 * and a crash never leaves a run that verifies.
 *
 * Re-running with the same inputs is idempotent, and repairs: a run already in place is kept
 * only when it holds exactly the produced files (same paths outside `volatile/`, same bytes,
 * nothing else); anything else is moved aside, replaced, and removed.
 *
 * A signature is never dropped silently (issue 19): an unsigned write over a signed run keeps
 * the signed run when it is this run plus its signature.json, and refuses (exit 2) otherwise.
 * This is the one replacement rule about signatures; `keepsSignedRun` holds it.
 *
 * Publishing is safe under concurrency: the rename is the only commit point. When it finds a
 * run already there (another writer won), we compare: identical means ours is discarded
 * (created: false); different means the other is moved aside and the rename retried, a
 * bounded number of times.
 */
import { randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { jsonFile, RUN_FILES, type RunFiles } from "../../core/artifact/files.js";
import { InputError } from "../../core/errors.js";
import { sweepOnce, sweepRunDebris, sweepStoreDebris } from "../store/debris.js";

export function runsRoot(artifactsRoot: string): string {
  return join(artifactsRoot, "runs");
}

export interface WrittenRun {
  runDir: string;
  /** False when an identical run was already in place. */
  created: boolean;
  /** True when the run in place is this run, signed, and was kept (this write carried no signature). */
  signatureKept?: true;
}

export interface WriteRunOptions {
  /** Timings and logs for `volatile/`: never fingerprinted, never compared. */
  volatile?: Readonly<Record<string, unknown>>;
  /**
   * Called before a differing run at `runs/<id>` is replaced; throw to refuse (import keeps a
   * sound run it did not produce). Without it, a differing run is always replaced.
   */
  beforeReplace?: (existingRunDir: string) => void;
}

/** How many times a publish retries when other writers keep putting a different run in place. */
const PUBLISH_ATTEMPTS = 8;

/** The `-<pid>-<rand>` tail of temporary names; the debris sweeper reads the pid back from it. */
export function tempSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * True when `runDir` holds exactly `files` outside `volatile/`: the same set of paths, the
 * same bytes, no extra files, no empty directories, no symlinks or other special files.
 * Anything unreadable (e.g. being moved away by another writer) counts as not identical.
 */
export function holdsExactly(runDir: string, files: RunFiles): boolean {
  let seen = 0;
  const walk = (dir: string, prefix: string): boolean => {
    const names = readdirSync(dir);
    if (names.length === 0 && prefix !== "") return false;
    for (const name of names) {
      const rel = prefix + name;
      if (rel === "volatile") continue;
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) {
        if (!walk(path, `${rel}/`)) return false;
      } else if (stat.isFile()) {
        const expected = files.get(rel);
        if (expected === undefined || stat.size !== expected.length) return false;
        if (Buffer.compare(readFileSync(path), expected) !== 0) return false;
        seen++;
      } else {
        return false;
      }
    }
    return true;
  };
  try {
    if (!lstatSync(runDir).isDirectory()) return false;
    return walk(runDir, "") && seen === files.size;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** No signature.json this program writes comes near this; a larger one is not kept as one. */
const MAX_SIGNATURE_BYTES = 64 * 1024;

/**
 * The signature rule of run replacement: true when `files` carry no signature and `runDir` is
 * the same run with a signature (kept as it is); throws when `runDir` is a signed run that
 * differs (refused: an unsigned write never replaces a signed run); false otherwise.
 */
function keepsSignedRun(runDir: string, files: RunFiles): boolean {
  if (files.has(RUN_FILES.signature)) return false;
  const path = join(runDir, RUN_FILES.signature);
  let signature: Buffer;
  try {
    const stat = lstatSync(path);
    // A special file or a huge one in its place is damage, not a signature: replaced.
    if (!stat.isFile() || stat.size > MAX_SIGNATURE_BYTES) return false;
    signature = readFileSync(path);
  } catch {
    return false;
  }
  if (holdsExactly(runDir, new Map(files).set(RUN_FILES.signature, signature))) return true;
  throw new InputError(
    "E_USAGE",
    "a signed run with this id is in place and differs from the one just made; an unsigned run never replaces a signed one: run again with --sign KEY, or remove the signed run first",
    { file: runDir },
  );
}

/** One segment of a run file path or a run id: no separators, nothing a shell or a join reads as more. */
const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Errors a rename onto an existing, non-empty target raises (Linux, macOS, Windows). */
const TARGET_TAKEN = new Set(["ENOTEMPTY", "EEXIST", "EISDIR", "ENOTDIR", "EPERM", "EACCES"]);

export function writeRun(
  artifactsRoot: string,
  runId: string,
  files: RunFiles,
  options: WriteRunOptions = {},
): WrittenRun {
  const root = runsRoot(artifactsRoot);
  const runDir = join(root, runId);
  if (!files.has(RUN_FILES.manifest)) throw new Error("refusing to write a run without a manifest");
  // Callers pass ids and paths they checked (a hash, a bundle's layout); a slip must still never
  // write outside runs/<id>.
  if (!SAFE_SEGMENT.test(runId) || runId === "." || runId === "..")
    throw new Error(`refusing to write a run named ${JSON.stringify(runId)}`);
  for (const path of files.keys())
    if (
      !path.split("/").every((s) => SAFE_SEGMENT.test(s) && s !== "." && s !== "..") ||
      path.startsWith("volatile/")
    )
      throw new Error(`refusing to write the run file ${JSON.stringify(path)}`);
  sweepOnce(`runs:${root}`, () => sweepRunDebris(root));
  const storeRoot = join(artifactsRoot, "store");
  sweepOnce(`store:${storeRoot}`, () => sweepStoreDebris(storeRoot));
  if (holdsExactly(runDir, files)) return { runDir, created: false };
  if (keepsSignedRun(runDir, files)) return { runDir, created: false, signatureKept: true };

  // Temporary names only need to be unique; they never reach a fingerprinted file.
  const tmp = join(root, `.tmp-${runId}-${tempSuffix()}`);
  const trashed: string[] = [];
  try {
    for (const [path, bytes] of files) {
      const target = join(tmp, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, bytes);
    }
    for (const [name, value] of Object.entries(options.volatile ?? {})) {
      mkdirSync(join(tmp, "volatile"), { recursive: true });
      writeFileSync(join(tmp, "volatile", `${name}.json`), jsonFile(value));
    }
    for (let attempt = 1; ; attempt++) {
      try {
        renameSync(tmp, runDir);
        return { runDir, created: true };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "";
        if (!TARGET_TAKEN.has(code) || !exists(runDir)) throw error;
      }
      // Another run is in place: a concurrent writer of the same run, or a damaged one.
      if (holdsExactly(runDir, files)) {
        rmSync(tmp, { recursive: true, force: true });
        return { runDir, created: false };
      }
      if (keepsSignedRun(runDir, files)) {
        rmSync(tmp, { recursive: true, force: true });
        return { runDir, created: false, signatureKept: true };
      }
      if (attempt >= PUBLISH_ATTEMPTS)
        throw new Error(`could not publish ${runId}: other writers keep replacing it`);
      options.beforeReplace?.(runDir);
      const trash = join(root, `.trash-${runId}-${tempSuffix()}`);
      try {
        renameSync(runDir, trash);
      } catch (error) {
        // Someone else moved it first: just retry the rename.
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        continue;
      }
      trashed.push(trash);
    }
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  } finally {
    // Removed only once ours is in place, so `runs/<id>` is empty for as short a time as possible.
    for (const trash of trashed) rmSync(trash, { recursive: true, force: true });
  }
}
