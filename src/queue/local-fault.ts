/**
 * A worker's own faults, told apart from the job's. Everything a worker writes lives under its
 * own artifacts dir, and the one model endpoint it calls is its own (--model-base-url): a
 * read-only or full disk there, or an endpoint refusing connections, says nothing about the job
 * or its submitter. Such a job goes back to the queue for a healthy worker, and this worker
 * backs off (see queue-worker.ts) instead of failing it as bad input.
 */

import { errnoInWords } from "../app/store/artifacts.js";
import { CanonError } from "../core/errors.js";

/** Errno codes of a disk (or file table) that cannot take what the worker writes. */
export const DISK_FAULTS: ReadonlySet<string> = new Set([
  "EROFS",
  "ENOSPC",
  "EDQUOT",
  "EACCES",
  "EPERM",
  "EIO",
  "EMFILE",
  "ENFILE",
]);

/** Words for the disk faults io/fs/fs-errors.ts does not name (they are not the user's to fix). */
const MORE_WORDS: Readonly<Record<string, string>> = {
  EIO: "input/output error",
  EMFILE: "too many open files in the process",
  ENFILE: "too many open files in the system",
};

/** Errno codes of an endpoint that cannot be reached at all (no request got through). */
export const CONNECTION_FAULTS: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

export interface LocalFault {
  kind: "disk" | "model_endpoint";
  /** One line for the log: what failed, in words, with the errno code. */
  what: string;
}

/** The error and its causes, outermost first (bounded: a cause chain can be cyclic). */
function chainOf(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && e !== null && chain.length < 8; ) {
    if (chain.includes(e)) break;
    chain.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return chain;
}

const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
};

/** The worker's own fault behind `error`, or null when the job (or its input) is to blame. */
export function localFaultOf(error: unknown): LocalFault | null {
  const chain = chainOf(error);
  // The model endpoint: a call that failed before any answer (the endpoint layer keeps the cause).
  if (chain.some((e) => e instanceof CanonError && e.code === "E_MODEL_ENDPOINT"))
    for (const e of chain) {
      const code = codeOf(e);
      if (code !== undefined && CONNECTION_FAULTS.has(code))
        return { kind: "model_endpoint", what: `the model endpoint cannot be reached (${code})` };
    }
  for (const e of chain) {
    const code = codeOf(e);
    if (code === undefined || !DISK_FAULTS.has(code)) continue;
    const path = (e as NodeJS.ErrnoException).path;
    const words = errnoInWords(e);
    return {
      kind: "disk",
      what: `the worker's artifacts dir: ${words === code ? `${MORE_WORDS[code] ?? "failed"} (${code})` : words}${typeof path === "string" ? ` at ${path}` : ""}`,
    };
  }
  return null;
}
