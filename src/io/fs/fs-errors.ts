/**
 * File-system failures at a path the user named (artifacts dir, --out, --target, a corpus, a
 * spec) are bad input (docs/design.md §8: exit 2), not bugs: a file where a folder must be, a read-only
 * or unwritable folder. One helper turns such an errno error into an InputError naming the
 * path and the errno in words, so every boundary reports it the same way.
 */
import { type ErrorCode, InputError } from "../../core/errors.js";

/** Errno codes a user can cause and fix, in words. Anything else stays an internal error. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is a file, not a folder",
  EEXIST: "a file is in the way (a folder is needed)",
  EISDIR: "is a folder, not a file",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "name too long",
  EBUSY: "busy",
  ETXTBSY: "busy",
  ENXIO: "no such device",
  ENODEV: "no such device",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name could not be looked up",
  EADDRNOTAVAIL: "not an address of this machine",
  EADDRINUSE: "the address is already in use",
};

function errnoOf(error: unknown): { code: string; path?: string } | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, path } = error as NodeJS.ErrnoException;
  if (typeof code !== "string" || !Object.hasOwn(ERRNO_WORDS, code)) return undefined;
  return typeof path === "string" ? { code, path } : { code };
}

/** "permission denied (EACCES)", or the bare code when it has no words. */
export function errnoInWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string") return (error as Error | undefined)?.message ?? String(error);
  return Object.hasOwn(ERRNO_WORDS, code) ? `${ERRNO_WORDS[code]} (${code})` : code;
}

export interface FsBoundary {
  /** The stable error code, e.g. E_ARTIFACTS_DIR. */
  code: ErrorCode;
  /** What was being done, e.g. "cannot write artifacts". */
  doing: string;
  /** The path the user named; the failing system call's own path is preferred when it has one. */
  path: string;
  /** The flag or field that named the path, e.g. "--artifacts-dir". */
  field?: string;
}

/** `error` as an InputError when it is an errno error a user can fix; otherwise `error` itself. */
export function fsInputError(error: unknown, at: FsBoundary): unknown {
  const errno = errnoOf(error);
  if (errno === undefined) return error;
  return new InputError(
    at.code,
    `${at.doing}: ${errnoInWords(error)}`,
    { file: errno.path ?? at.path, ...(at.field === undefined ? {} : { field: at.field }) },
    error,
  );
}

/** Runs `fn` (sync or async), turning user-fixable errno errors into InputErrors at `at`. */
export function atFsBoundary<T>(at: FsBoundary, fn: () => T): T {
  let result: T;
  try {
    result = fn();
  } catch (error) {
    throw fsInputError(error, at);
  }
  if (result instanceof Promise) {
    return result.catch((error: unknown) => {
      throw fsInputError(error, at);
    }) as T;
  }
  return result;
}
