/**
 * Local rebuild records (docs/design.md §5, "Rebuild records"): `verify` rebuilds a run's pinned
 * index from its snapshot, and a record lets a later verification on this machine skip a
 * rebuild that already agreed. A record is an HMAC-SHA256, under a key kept outside the
 * artifacts dir, over what the rebuild vouched for: the snapshot's and the index's hashes (which
 * the store recomputes on every read), the parameters, the formats and this build. Whoever can
 * write the artifacts dir, or this folder's records, but not read the key cannot make one.
 * Records are an optimisation only: any doubt (no key, a key that is not a private regular file,
 * a record that is missing, edited or for other bytes) means the index is rebuilt.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  type Stats,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { canonicalJson, sha256Hex } from "../../core/canonical.js";
import type { RetrievalProvenance } from "../../core/models/trace.js";
import { INDEX_FORMAT_VERSION } from "../../core/retrieval/bm25/bm25-format.js";
import { type RebuildRecords, type RebuildSubject, rebuildSubject } from "../../core/verify/pinned-index.js";
import { PRODUCER } from "../../version.js";
import { writeFileAtomic } from "../store/content-store.js";

/** The folder holding the key and the records; tests and deployments point it elsewhere. */
export const STATE_DIR_ENV = "CANON_REASON_STATE_DIR";
const KEY_FILE = "rebuild-key";
const RECORDS_DIR = "rebuilds";
const KEY_BYTES = 32;
/** Larger than any record; a bigger file is not one. */
const MAX_RECORD_BYTES = 4096;
/** Domain separation: this key signs nothing else, and nothing else is signed like this. */
const MAC_CONTEXT = "canon-reason rebuild record 1\n";

/** $CANON_REASON_STATE_DIR, else $XDG_STATE_HOME/canon-reason, else ~/.local/state/canon-reason. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const set = env[STATE_DIR_ENV];
  if (set !== undefined && set !== "") return resolve(set);
  const xdg = env.XDG_STATE_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), ".local", "state");
  return join(base, "canon-reason");
}

/** Up to `max` + 1 bytes of an open file, from its start (more than `max`: it is too large). */
function readAtMost(fd: number, max: number): Buffer {
  const buffer = Buffer.alloc(max + 1);
  let length = 0;
  while (length < buffer.length) {
    const read = readSync(fd, buffer, length, buffer.length - length, length);
    if (read === 0) break;
    length += read;
  }
  return buffer.subarray(0, length);
}

/**
 * Up to `max` + 1 bytes of the regular file at `path` that `accept` allows, opened without
 * following a link or blocking (a FIFO there is refused, never waited on) and checked through
 * the open file, so what is checked is what is read; null for anything else or any error.
 */
function readRegularFile(path: string, max: number, accept: (stat: Stats) => boolean): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    return stat.isFile() && accept(stat) ? readAtMost(fd, max) : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The key when it is owned by this user, private (no group or other bits) and exactly 32 bytes; else null. */
function readKey(path: string): Buffer | null {
  const key = readRegularFile(
    path,
    KEY_BYTES,
    (stat) => (stat.mode & 0o077) === 0 && (process.getuid === undefined || stat.uid === process.getuid()),
  );
  return key?.length === KEY_BYTES ? key : null;
}

/** Makes a key (0600, in a 0700 folder) unless one is there; whichever key won a race is kept. */
function createKey(dir: string, path: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    writeFileSync(tmp, randomBytes(KEY_BYTES), { mode: 0o600, flag: "wx" });
    // link() never replaces: a key another process made first stays, and records made under it.
    linkSync(tmp, path);
  } catch {
    // EEXIST (another process made it) or a folder we cannot write: readKey decides.
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** A record file: the subject, this build and the MAC over both. */
interface RecordFile {
  build: string;
  subject: RebuildSubject;
  mac: string;
}

export class RebuildLedger implements RebuildRecords {
  readonly dir: string;
  /** Subjects this process rebuilt, built or found an authentic record for. */
  private readonly seen = new Set<string>();
  private key: Buffer | null | undefined;
  private readonly build = `${PRODUCER.name}/${PRODUCER.version}`;

  constructor(dir: string) {
    this.dir = dir;
  }

  get keyPath(): string {
    return join(this.dir, KEY_FILE);
  }

  private recordPath(text: string): string {
    return join(this.dir, RECORDS_DIR, sha256Hex(text));
  }

  /** The key, read once; made first when `create` and there is none. */
  private keyFor(create: boolean): Buffer | null {
    if (this.key === undefined || (this.key === null && create)) {
      this.key = readKey(this.keyPath);
      if (this.key === null && create) {
        createKey(this.dir, this.keyPath);
        this.key = readKey(this.keyPath);
      }
    }
    return this.key;
  }

  private mac(key: Buffer, text: string): Buffer {
    return createHmac("sha256", key)
      .update(MAC_CONTEXT)
      .update(this.build)
      .update("\n")
      .update(text)
      .digest();
  }

  agreed(subject: RebuildSubject): boolean {
    const text = canonicalJson(subject);
    if (this.seen.has(text)) return true;
    const key = this.keyFor(false);
    if (key === null) return false;
    const record = readRecord(this.recordPath(text));
    if (record === null || record.build !== this.build || canonicalJson(record.subject) !== text)
      return false;
    const mac = Buffer.from(record.mac, "hex");
    const expected = this.mac(key, text);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return false;
    this.seen.add(text);
    return true;
  }

  record(subject: RebuildSubject): void {
    const text = canonicalJson(subject);
    if (this.seen.has(text)) return;
    this.seen.add(text);
    const key = this.keyFor(true);
    if (key === null) return;
    const file: RecordFile = { build: this.build, subject, mac: this.mac(key, text).toString("hex") };
    try {
      mkdirSync(join(this.dir, RECORDS_DIR), { recursive: true, mode: 0o700 });
      writeFileAtomic(this.recordPath(text), Buffer.from(`${canonicalJson(file)}\n`, "utf8"));
    } catch {
      // A read-only or full state folder: the next verification rebuilds, nothing else changes.
    }
  }
}

/** A record file's fields, or null when it is absent, oversized or not one. */
function readRecord(path: string): RecordFile | null {
  const bytes = readRegularFile(path, MAX_RECORD_BYTES, () => true);
  if (bytes === null || bytes.length > MAX_RECORD_BYTES) return null;
  try {
    const parsed = JSON.parse(bytes.toString("utf8")) as Partial<RecordFile> | null;
    if (
      typeof parsed?.build !== "string" ||
      typeof parsed.mac !== "string" ||
      !/^[0-9a-f]{64}$/.test(parsed.mac)
    )
      return null;
    return parsed as RecordFile;
  } catch {
    return null;
  }
}

const ledgers = new Map<string, RebuildLedger>();

/**
 * The ledger of this user's state folder (stateDir), one per folder and process, so what one
 * run or verification in a process saw agree is not rebuilt by the next.
 */
export function localRebuildRecords(env: NodeJS.ProcessEnv = process.env): RebuildLedger {
  const dir = stateDir(env);
  let ledger = ledgers.get(dir);
  if (ledger === undefined) {
    ledger = new RebuildLedger(dir);
    ledgers.set(dir, ledger);
  }
  return ledger;
}

/**
 * The index of `p` was just built here from its snapshot and stored in this build's format: the
 * same function of the same bytes a verifier's rebuild runs, so its rebuild would agree.
 */
export function recordBuiltIndex(records: RebuildRecords, p: RetrievalProvenance): void {
  records.record(rebuildSubject(p, INDEX_FORMAT_VERSION));
}
