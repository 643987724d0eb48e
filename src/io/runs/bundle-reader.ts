/**
 * Reading a bundle on import (see bundle.ts), as a stream in three stages: the header (the
 * first entry, schema-checked, names the run), the entries (each checked against the layout and
 * the size bounds as it streams: run files into memory, store objects re-hashed into the staging
 * folder), and the commit (the run read is whole and is the run the header names). Every byte
 * is attacker-controlled input: any problem is an E_BUNDLE_INVALID, never a crash.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { RUN_FILES } from "../../core/artifact/files.js";
import { toRunView } from "../../core/artifact/view.js";
import { InputError } from "../../core/errors.js";
import { kindOf } from "../fs/user-text.js";
import {
  BundleHeader,
  type BundleLimits,
  HEADER_ENTRY,
  OBJECT_PATH,
  RUN_PATH,
  referencedBy,
} from "./bundle-format.js";

export interface ReadBundle {
  runId: string;
  files: Map<string, Uint8Array>;
  /** sha256 -> a checked file in the staging folder, to be renamed into the store. */
  objects: Map<string, string>;
  /** Objects in the bundle the run does not reference: not kept. */
  skipped: number;
}

type Bad = (message: string) => InputError;

/**
 * Opens the bundle file for reading. Only a regular file is opened: a FIFO would block the
 * open until a writer came, a device never ends. stat first, then an O_NONBLOCK open whose
 * fstat must still be a regular file (a swap in between is refused, never read).
 */
function openBundleFile(bundle: string, bad: Bad): number {
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

/** What has been read of one bundle so far, entry by entry; `fail` ends the read. */
class BundleEntries {
  readonly files = new Map<string, Uint8Array>();
  readonly objects = new Map<string, string>();
  skipped = 0;
  runId: string | null = null;
  private referenced: Set<string> | null = null;
  private entries = 0;
  private runBytes = 0;
  private totalBytes = 0;

  constructor(
    private readonly bad: Bad,
    private readonly staging: string,
    private readonly limits: BundleLimits,
    private readonly fail: (error: unknown) => void,
    private readonly settled: () => boolean,
  ) {}

  /** One entry: counted and checked for its type and path, then read as the header, a run file or an object. */
  read(entry: ReadEntry): void {
    const { bad, limits } = this;
    const path = entry.path;
    this.entries++;
    this.totalBytes += entry.size;
    if (this.entries > limits.maxEntries) throw bad(`more than ${limits.maxEntries} entries`);
    if (this.totalBytes > limits.maxTotalBytes)
      throw bad(`entries exceed ${limits.maxTotalBytes} bytes in total`);
    if (entry.type !== "File" && entry.type !== "OldFile")
      throw bad(`refusing ${ENTRY_KINDS[entry.type] ?? `a ${entry.type} entry`} at ${JSON.stringify(path)}`);
    if (path.startsWith("/") || path.split(/[/\\]/).includes("..") || path.includes("\\"))
      throw bad(`refusing path ${JSON.stringify(path)}`);
    if (this.entries === 1) this.header(entry);
    else if (path.startsWith("run/")) this.runFile(entry, path.slice(4));
    else {
      const hash = OBJECT_PATH.exec(path)?.[1];
      if (hash === undefined) throw bad(`refusing path ${JSON.stringify(path)}`);
      this.object(entry, hash);
    }
  }

  /** Stage 1: the first entry is the header, and names the run. */
  private header(entry: ReadEntry): void {
    const { bad } = this;
    if (entry.path !== HEADER_ENTRY)
      throw bad(`not a canon-reason bundle: first entry is ${JSON.stringify(entry.path)}`);
    if (entry.size > 64 * 1024) throw bad("bundle header too large");
    this.collect(entry, (bytes) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString("utf8"));
      } catch {
        return this.fail(bad("unreadable bundle header"));
      }
      // The header is attacker-controlled: a schema failure is a finding, never a crash.
      const header = BundleHeader.safeParse(parsed);
      if (!header.success) return this.fail(bad("invalid bundle header"));
      this.runId = header.data.run_id;
    });
  }

  /** Stage 2: a run file, held in memory within its bounds. */
  private runFile(entry: ReadEntry, rel: string): void {
    const { bad, limits } = this;
    if (!RUN_PATH.test(rel)) throw bad(`refusing path ${JSON.stringify(entry.path)}`);
    if (this.files.has(rel)) throw bad(`${rel} appears twice`);
    if (entry.size > limits.maxRunFileBytes)
      throw bad(`${entry.path} is larger than ${limits.maxRunFileBytes} bytes`);
    this.runBytes += entry.size;
    if (this.runBytes > limits.maxRunBytes) throw bad(`run files exceed ${limits.maxRunBytes} bytes`);
    this.files.set(rel, new Uint8Array());
    this.collect(entry, (bytes) => this.files.set(rel, bytes));
  }

  /** Stage 2: a store object, streamed into the staging folder and re-hashed as it comes. */
  private object(entry: ReadEntry, hash: string): void {
    const { bad, limits } = this;
    if (this.objects.has(hash)) throw bad(`${entry.path} appears twice`);
    if (entry.size > limits.maxObjectBytes)
      throw bad(`${entry.path} is larger than ${limits.maxObjectBytes} bytes`);
    // run/ entries come first (export writes them so): an object the run does not pin is not written.
    this.referenced ??= referencedBy(this.files.get(RUN_FILES.run));
    if (this.referenced !== null && !this.referenced.has(hash)) {
      this.skipped++;
      entry.resume();
      return;
    }
    const tmp = join(this.staging, hash);
    const fd = openSync(tmp, "wx", 0o644);
    this.objects.set(hash, tmp);
    const digest = createHash("sha256");
    entry.on("data", (chunk: Buffer) => {
      if (this.settled()) return;
      try {
        digest.update(chunk);
        writeSync(fd, chunk);
      } catch (error) {
        this.fail(error);
      }
    });
    entry.on("end", () => {
      closeSync(fd);
      if (!this.settled() && digest.digest("hex") !== hash)
        this.fail(bad(`object ${hash} does not match its sha256`));
    });
  }

  private collect(entry: ReadEntry, done: (bytes: Buffer) => void): void {
    const chunks: Buffer[] = [];
    entry.on("data", (chunk: Buffer) => chunks.push(chunk));
    entry.on("end", () => {
      if (!this.settled()) done(Buffer.concat(chunks));
    });
  }

  /** Stage 3: the bundle had a header and a run, and the run is the one the header names. */
  commit(): ReadBundle {
    const { bad, runId, files } = this;
    if (runId === null) throw bad("not a canon-reason bundle: no bundle header");
    if (!files.has(RUN_FILES.manifest)) throw bad("no run in the bundle");
    // The directory name comes from the run itself, so a header cannot file a run under another id.
    if (toRunView(files).view.run?.run_id !== runId) throw bad(`run.json does not name the run ${runId}`);
    return { runId, files, objects: this.objects, skipped: this.skipped };
  }

  /** Removes the objects staged so far (the read failed). */
  discard(): void {
    for (const tmp of this.objects.values()) rmSync(tmp, { force: true });
  }
}

/**
 * Reads and checks a bundle as a stream. Store objects stream into `staging`, except those the
 * run (once its run.json is read) does not reference; the caller publishes or removes them.
 */
export function readBundle(bundle: string, staging: string, limits: BundleLimits): Promise<ReadBundle> {
  const bad: Bad = (message) => new InputError("E_BUNDLE_INVALID", message, { file: bundle });
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
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      source.destroy();
      gunzip.destroy();
      entries.discard();
      reject(error instanceof InputError ? error : bad(`not a valid bundle (${String(error)})`));
    };
    const entries = new BundleEntries(bad, staging, limits, fail, () => settled);
    const finish = () => {
      if (settled) return;
      let read: ReadBundle;
      try {
        read = entries.commit();
      } catch (error) {
        return fail(error);
      }
      settled = true;
      resolve(read);
    };

    parser.on("entry", (entry: ReadEntry) => {
      if (settled) return entry.resume();
      try {
        entries.read(entry);
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
