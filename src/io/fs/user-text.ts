/**
 * Reading text the user gives us, under the one encoding rule (docs/design.md §9): UTF-8 only, a
 * leading UTF-8 byte order mark is stripped, invalid bytes are bad input (exit 2) naming the
 * file, line and byte offset. Used by the corpus reader, spec, suite and key files alike.
 */
import { isUtf8 } from "node:buffer";
import { readFileSync, statSync } from "node:fs";
import { type ErrorCode, InputError } from "../../core/errors.js";
import { findLoneSurrogate, firstInvalidUtf8, loneSurrogateError } from "../../core/unicode.js";
import { atFsBoundary } from "./fs-errors.js";

const NEWLINE = 0x0a;

export function startsWithBom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/** The error for invalid UTF-8 at byte `offset` of `file` (1-based `line`). */
export function invalidUtf8Error(code: ErrorCode, file: string, line: number, offset: number): InputError {
  return new InputError(code, `not valid UTF-8 (byte offset ${offset}); save the file as UTF-8`, {
    file,
    line,
  });
}

/**
 * `bytes` decoded as UTF-8, or an InputError naming file, line and byte offset. `start` is
 * where `bytes` begin in the file and `line` the line they begin on, for a piece of a file.
 */
export function decodeUtf8(
  bytes: Uint8Array,
  at: { code: ErrorCode; file: string; start?: number; line?: number },
): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isUtf8(buffer)) {
    const bad = Math.max(0, firstInvalidUtf8(buffer));
    let line = at.line ?? 1;
    for (let i = buffer.indexOf(NEWLINE); i >= 0 && i < bad; i = buffer.indexOf(NEWLINE, i + 1)) line += 1;
    throw invalidUtf8Error(at.code, at.file, line, (at.start ?? 0) + bad);
  }
  return buffer.toString("utf8");
}

/** A whole file's text: BOM stripped, invalid UTF-8 refused. */
export function decodeFileText(bytes: Uint8Array, code: ErrorCode, file: string): string {
  return decodeUtf8(startsWithBom(bytes) ? bytes.subarray(3) : bytes, {
    code,
    file,
    start: startsWithBom(bytes) ? 3 : 0,
  });
}

/**
 * The largest spec, suite, query or key file read whole. Far above any real one, and below the
 * sizes where Node itself fails (a string over 512 MiB, a read over 2 GiB) with an error that
 * names no file.
 */
export const MAX_USER_TEXT_BYTES = 256 * 1024 * 1024;

/**
 * Reads a small file the user named (spec, suite, queries, key). Only regular files: a FIFO
 * would block forever and a device such as /dev/zero never ends. Its size is checked before and
 * after the read, as a file can grow in between.
 */
export function readUserText(path: string, code: ErrorCode, field?: string): string {
  const where = { file: path, ...(field === undefined ? {} : { field }) };
  const at = { code, doing: "cannot read", path, ...(field === undefined ? {} : { field }) };
  const stat = atFsBoundary(at, () => statSync(path));
  if (!stat.isFile()) {
    throw new InputError(code, `cannot read: ${kindOf(stat)}, not a regular file`, where);
  }
  const tooLarge = (size: number) =>
    new InputError(
      code,
      `file is ${size} bytes, more than the ${MAX_USER_TEXT_BYTES / (1024 * 1024)} MiB a spec, suite or key file may hold`,
      where,
    );
  if (stat.size > MAX_USER_TEXT_BYTES) throw tooLarge(stat.size);
  const bytes = atFsBoundary(at, () => readFileSync(path));
  if (bytes.length > MAX_USER_TEXT_BYTES) throw tooLarge(bytes.length);
  return decodeFileText(bytes, "E_ENCODING", path);
}

/**
 * Every non-blank line of a JSONL file as a JSON value with its 1-based line number. A line
 * that is not JSON, or holds a lone surrogate, is bad input naming the file and the line.
 */
export function readJsonLines(path: string, code: ErrorCode): Array<{ line: number; value: unknown }> {
  return readUserText(path, code)
    .split("\n")
    .map((text, i) => ({ text, line: i + 1 }))
    .filter(({ text }) => text.trim() !== "")
    .map(({ text, line }) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new InputError(code, `not valid JSON (${(error as Error).message})`, { file: path, line });
      }
      const bad = findLoneSurrogate(value);
      if (bad !== undefined)
        throw loneSurrogateError({ file: path, line, ...(bad === "" ? {} : { field: bad }) });
      return { line, value };
    });
}

/** What a file-system entry is, in words, for errors about entries that are not regular files. */
export function kindOf(stat: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSymbolicLink(): boolean;
}): string {
  if (stat.isDirectory()) return "a folder";
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  if (stat.isSymbolicLink()) return "a symbolic link";
  return "a special file";
}

/**
 * Reads a small JSON file given by the user (UTF-8, a leading BOM stripped); parse errors and
 * lone surrogates name the file, line and field.
 */
export function readUserJson(path: string, code: ErrorCode = "E_USAGE"): unknown {
  const text = readUserText(path, code);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const pos = /position (\d+)/.exec(message);
    const line = pos?.[1] === undefined ? undefined : text.slice(0, Number(pos[1])).split("\n").length;
    throw new InputError(
      code,
      `not valid JSON (${message})`,
      line === undefined ? { file: path } : { file: path, line },
    );
  }
  const bad = findLoneSurrogate(value);
  if (bad !== undefined) {
    throw loneSurrogateError({
      file: path,
      ...(bad === "" ? {} : { field: bad }),
    });
  }
  return value;
}
