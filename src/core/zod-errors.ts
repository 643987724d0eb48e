/** Turns a zod validation failure into an InputError naming the file and the field. */
import type * as z from "zod";
import { type ErrorCode, InputError } from "./errors.js";

export function zodToInputError(error: z.ZodError, code: ErrorCode, file: string, line?: number): InputError {
  const issue = error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? undefined : issue.path.map(String).join(".");
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : "";
  const message = `${issue?.message ?? "invalid"}${more}`;
  return new InputError(code, message, {
    file,
    ...(line === undefined ? {} : { line }),
    ...(field === undefined ? {} : { field }),
  });
}
