/**
 * Writing a page the user asked for (`report -o`): into a temporary file renamed into place,
 * so an existing file is replaced whole or not at all. A target that is not a regular file (a
 * folder, a FIFO, a device) is refused before anything is written: renaming over it would
 * replace the node itself.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../core/errors.js";
import { tempSuffix } from "../runs/run-writer.js";
import { errnoInWords, fsInputError } from "./fs-errors.js";
import { kindOf } from "./user-text.js";

type OutputCode = "E_OUTPUT" | "E_EXPORT_TARGET";
const DOING: Record<OutputCode, string> = {
  E_OUTPUT: "cannot write the page",
  E_EXPORT_TARGET: "cannot write the bundle",
};
const at = (path: string, field: string, code: OutputCode = "E_OUTPUT") =>
  ({ code, doing: DOING[code], path, field }) as const;

/**
 * Refuses an existing target that is not a regular file: a file written by rename would
 * replace a device or a FIFO node itself. Pages and bundles share it (`code` says which).
 */
export function checkOutputFile(path: string, field = "-o", code: OutputCode = "E_OUTPUT"): void {
  let existing: ReturnType<typeof statSync> | undefined;
  try {
    existing = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw fsInputError(error, at(path, field, code));
  }
  if (!existing.isFile())
    throw new InputError(
      code,
      existing.isDirectory() ? "is a folder; give a file name" : `is ${kindOf(existing)}, not a file`,
      { file: path, field },
    );
}

export function writeOutputFile(path: string, text: string, field = "-o"): void {
  checkOutputFile(path, field);
  const tmp = `${path}.tmp-${tempSuffix()}`;
  let fd: number;
  try {
    fd = openSync(tmp, "wx", 0o644);
  } catch (error) {
    throw fsInputError(error, at(path, field));
  }
  try {
    writeSync(fd, text);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
    rmSync(tmp, { force: true });
    throw new InputError(
      "E_OUTPUT",
      `cannot write the page: ${errnoInWords(error)}`,
      { file: path, field },
      error,
    );
  }
}

/** A folder for pages: made when absent; anything else in its place is refused. */
export function prepareOutputFolder(dir: string, field = "-o"): void {
  let existing: ReturnType<typeof statSync> | undefined;
  try {
    existing = statSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw fsInputError(error, at(dir, field));
  }
  if (existing !== undefined && !existing.isDirectory())
    throw new InputError(
      "E_OUTPUT",
      `is ${existing.isFile() ? "a file" : kindOf(existing)}; give a folder for the eval pages`,
      {
        file: dir,
        field,
      },
    );
  try {
    mkdirSync(join(dir, "runs"), { recursive: true });
  } catch (error) {
    throw fsInputError(error, at(dir, field));
  }
}
