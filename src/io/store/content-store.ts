/**
 * The content-addressed store on disk (docs/design.md §4): `store/sha256/<2 hex>/<62 hex>`.
 * Writes are idempotent and never overwrite; reads re-hash and fail loudly on a mismatch.
 * `refs/` holds cache pointers (input digest -> snapshot, index key -> index), each through a
 * record of what its target was made of, checked before it is followed.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { canonicalJson, sha256Hex } from "../../core/canonical.js";
import { CanonError, IntegrityError } from "../../core/errors.js";
import { kindOf } from "../fs/user-text.js";
import { sweepOnce, sweepStoreDebris } from "./debris.js";

const HEX64 = /^[0-9a-f]{64}$/;
const REF_NAME = /^[a-z-]+\/[0-9a-f]{64}$/;

/** Read access to store objects, as the verifier sees it. */
export interface StoreReader {
  /** The bytes of an object, or null when absent. Throws IntegrityError when they do not hash to `hash`. */
  get(hash: string): Uint8Array | null;
}

/** Read and hashed a piece at a time, so each piece is hashed while it is still in the CPU's cache. */
const PIECE = 1 << 18;

/**
 * The bytes of a store object file and their sha256 (hex). A FIFO, socket or device in its place
 * is an integrity error found without blocking: stat first, then an O_NONBLOCK open whose fstat
 * must still be a regular file (a swap after stat is refused, never read). The bytes are what the
 * file held up to its size when opened (fewer if it shrank), and the hash is of exactly them.
 */
function readObjectFile(path: string): { bytes: Buffer; sha256: string } {
  const refuse = (kind: string) =>
    new IntegrityError(`store object is ${kind}, not a regular file (never read)`, { file: path });
  const st = statSync(path);
  if (!st.isFile()) throw refuse(kindOf(st));
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile()) throw refuse(kindOf(opened));
    const bytes = Buffer.allocUnsafeSlow(opened.size);
    const hash = createHash("sha256");
    let at = 0;
    while (at < bytes.length) {
      const read = readSync(fd, bytes, at, Math.min(PIECE, bytes.length - at), at);
      if (read === 0) break;
      hash.update(bytes.subarray(at, at + read));
      at += read;
    }
    return { bytes: at === bytes.length ? bytes : bytes.subarray(0, at), sha256: hash.digest("hex") };
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` to `path` through a temporary file and a rename, so readers never see half a file. */
export function writeFileAtomic(path: string, bytes: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  // The temporary name only has to be unique; it never reaches a fingerprinted file.
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

export class DiskStore implements StoreReader {
  readonly root: string;
  /** Objects already read and re-hashed (or hashed and written) by this process: a run reads the snapshot more than once. */
  private readonly verified = new Map<string, Uint8Array>();

  constructor(artifactsRoot: string) {
    this.root = join(artifactsRoot, "store");
  }

  objectPath(hash: string): string {
    if (!HEX64.test(hash))
      throw new CanonError("E_STORE_MISSING", `not a sha256 object name: ${hash}`, { exitCode: 2 });
    return join(this.root, "sha256", hash.slice(0, 2), hash.slice(2));
  }

  has(hash: string): boolean {
    return existsSync(this.objectPath(hash));
  }

  /**
   * Marks an object as in use now (its mtime): `canon-reason gc` never removes an object used
   * within its grace period, so a run that depends on it survives a concurrent collection.
   * Best effort: a read-only store is still readable.
   */
  touch(hash: string): void {
    if (!HEX64.test(hash)) return;
    const now = new Date();
    try {
      utimesSync(this.objectPath(hash), now, now);
    } catch {
      // Absent or read-only: nothing to protect, or nothing we could change.
    }
  }

  /**
   * Stores `bytes` under their hash. `keep`: this process reads them back soon (a run's verifier
   * reads the snapshot and index it just built), so `get` returns them as hashed here, without
   * reading and hashing them again; the caller must not change them afterwards.
   */
  put(bytes: Uint8Array, keep = false): string {
    const hash = sha256Hex(bytes);
    const path = this.objectPath(hash);
    sweepOnce(`store:${this.root}`, () => sweepStoreDebris(this.root));
    if (!existsSync(path)) writeFileAtomic(path, bytes);
    else this.touch(hash);
    if (keep) this.verified.set(hash, bytes);
    return hash;
  }

  get(hash: string): Uint8Array | null {
    const cached = this.verified.get(hash);
    if (cached !== undefined) return cached;
    const path = this.objectPath(hash);
    if (!existsSync(path)) return null;
    const { bytes, sha256 } = readObjectFile(path);
    this.touch(hash);
    if (sha256 !== hash) {
      throw new IntegrityError(`store object ${hash} is corrupt: its bytes hash differently`, { file: path });
    }
    this.verified.set(hash, bytes);
    return bytes;
  }

  /**
   * Follows a cache pointer: `refs/<name>` names a record object `{of, target}` in the store,
   * and the target is returned only when the record is intact and was made `of` exactly the
   * inputs at hand. A pointer retargeted at another record or object is not followed (docs/operations/security-and-safety.md, the store);
   * a lost, stale or foreign one only costs a rebuild.
   */
  readCheckedRef(name: string, of: Readonly<Record<string, unknown>>): string | null {
    if (!REF_NAME.test(name)) return null;
    const path = join(this.root, "refs", name);
    if (!existsSync(path)) return null;
    const recordHash = readFileSync(path, "utf8").trim();
    if (!HEX64.test(recordHash)) return null;
    try {
      const bytes = this.get(recordHash);
      if (bytes === null) return null;
      const record = JSON.parse(Buffer.from(bytes).toString("utf8")) as { of?: unknown; target?: unknown };
      const { target } = record;
      if (typeof target !== "string" || !HEX64.test(target) || !this.has(target)) return null;
      if (canonicalJson(record.of ?? null) !== canonicalJson(of)) return null;
      this.touch(target);
      return target;
    } catch {
      return null;
    }
  }

  /** Records that `target` was made of `of`, and points `refs/<name>` at that record. */
  writeCheckedRef(name: string, of: Readonly<Record<string, unknown>>, target: string): void {
    if (!REF_NAME.test(name) || !HEX64.test(target)) throw new Error(`invalid ref ${name} -> ${target}`);
    const record = this.put(Buffer.from(`${canonicalJson({ of, target })}\n`, "utf8"));
    writeFileAtomic(join(this.root, "refs", name), `${record}\n`);
  }
}
