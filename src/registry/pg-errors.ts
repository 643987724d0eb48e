/**
 * How a PostgreSQL failure reaches the user: one line, never a stack. A URL the server refuses
 * (unknown database, user or password) is bad input (E_REGISTRY_URL, exit 2); a server that does
 * not answer, or stops answering, is E_REGISTRY_UNAVAILABLE (exit 3, HTTP 503), since trying
 * again later may work. Anything else is left as it is: an internal error.
 */
import { CanonError } from "../core/errors.js";

/** SQLSTATEs of a URL the server understood and refused: bad input. */
const REFUSED: Readonly<Record<string, string>> = {
  "28000": "the server refused the user",
  "28P01": "the server refused the password",
  "3D000": "the database does not exist",
};
/** Errno codes and SQLSTATE classes of a server that is not (or no longer) reachable. */
const UNREACHABLE_ERRNO = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);
const UNREACHABLE_STATE = /^(08|57P0)/;
const UNREACHABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<not a URL>";
  }
}

export function registryError(error: unknown, where: string): unknown {
  if (error instanceof CanonError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as Error | null)?.message ?? String(error);
  if (typeof code === "string" && code in REFUSED)
    return new CanonError("E_REGISTRY_URL", `${REFUSED[code]}: ${message}`, {
      exitCode: 2,
      where: { file: where, field: "--registry" },
      cause: error,
    });
  const unreachable =
    (typeof code === "string" && (UNREACHABLE_ERRNO.has(code) || UNREACHABLE_STATE.test(code))) ||
    UNREACHABLE_MESSAGE.test(message);
  if (!unreachable) return error;
  return new CanonError(
    "E_REGISTRY_UNAVAILABLE",
    `the registry does not answer (${typeof code === "string" ? code : message.split("\n")[0]}): is PostgreSQL running there?`,
    { exitCode: 3, where: { file: where }, cause: error },
  );
}
