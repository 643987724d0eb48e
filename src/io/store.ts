/**
 * The content-addressed store on disk (SPEC §4): `store/sha256/<2 hex>/<62 hex>`.
 * Writes are idempotent and never overwrite; reads re-hash and fail loudly on a mismatch.
 * `refs/` holds cache pointers (input digest -> snapshot, index key -> index): a lost or
 * stale ref only costs a rebuild, because every object it points at is re-hashed on read.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { sha256Hex } from "../core/canonical.js";
import { CanonError, IntegrityError } from "../core/errors.js";
import { sweepOnce, sweepStoreDebris } from "./debris.js";

const HEX64 = /^[0-9a-f]{64}$/;
const REF_NAME = /^[a-z-]+\/[0-9a-f]{64}$/;

/** Read access to store objects, as the verifier sees it. */
export interface StoreReader {
  /** The bytes of an object, or null when absent. Throws IntegrityError when they do not hash to `hash`. */
  get(hash: string): Uint8Array | null;
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
  /** Objects already read and re-hashed by this process: a run reads the snapshot more than once. */
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

  put(bytes: Uint8Array): string {
    const hash = sha256Hex(bytes);
    const path = this.objectPath(hash);
    sweepOnce(`store:${this.root}`, () => sweepStoreDebris(this.root));
    if (!existsSync(path)) writeFileAtomic(path, bytes);
    return hash;
  }

  get(hash: string): Uint8Array | null {
    const cached = this.verified.get(hash);
    if (cached !== undefined) return cached;
    const path = this.objectPath(hash);
    if (!existsSync(path)) return null;
    const bytes = readFileSync(path);
    if (sha256Hex(bytes) !== hash) {
      throw new IntegrityError(`store object ${hash} is corrupt: its bytes hash differently`, { file: path });
    }
    this.verified.set(hash, bytes);
    return bytes;
  }

  readRef(name: string): string | null {
    if (!REF_NAME.test(name)) return null;
    const path = join(this.root, "refs", name);
    if (!existsSync(path)) return null;
    const value = readFileSync(path, "utf8").trim();
    return HEX64.test(value) ? value : null;
  }

  writeRef(name: string, hash: string): void {
    if (!REF_NAME.test(name) || !HEX64.test(hash)) throw new Error(`invalid ref ${name} -> ${hash}`);
    writeFileAtomic(join(this.root, "refs", name), `${hash}\n`);
  }
}
