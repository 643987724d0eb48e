/**
 * The one reader of run directories: verify, replay, diff, inspect, export and the service read
 * runs through `openRun`, so they can never disagree about what a run says. Reads a run directory
 * into memory. A run is hostile input:
 * symlinks are never followed (not even one swapped in after the directory was listed),
 * oversized files are not read, and the whole read is bounded in bytes, entries and depth.
 * Everything not read is reported as an anomaly, so the verifier fails a check instead of
 * crashing or reading outside the run.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type * as z from "zod";
import { RUN_FILES } from "../../core/artifact/files.js";
import { type ReadProblem, renderReadProblem } from "../../core/artifact/read-problems.js";
import { RunTimings, VOLATILE_TIMINGS } from "../../core/artifact/timings.js";
import { type RunView, toRunView } from "../../core/artifact/view.js";
import { InputError } from "../../core/errors.js";
import { kindOf } from "../fs/user-text.js";

/** No artifact of a real run comes near these; a larger run is a hostile or broken one. */
export const RUN_READ_LIMITS = {
  maxFileBytes: 256 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxEntries: 100_000,
  /** evidence/<hash>.txt is the deepest path a run holds. */
  maxDepth: 8,
};
export type RunReadLimits = typeof RUN_READ_LIMITS;

export interface RunDirectory {
  files: Map<string, Uint8Array>;
  /** Entries that were not read, with why: symlinks, special files, oversized files, limits. */
  anomalies: Array<{ path: string; reason: string }>;
}

/**
 * O_NOFOLLOW makes open fail on a symlink, and O_NONBLOCK makes it return at once on a FIFO,
 * closing the gap between lstat and read: a special file swapped in after lstat is opened
 * without blocking, and fstat then refuses it (it is never read).
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

const errorCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

export function readRunDirectory(runDir: string, limits: RunReadLimits = RUN_READ_LIMITS): RunDirectory {
  const files = new Map<string, Uint8Array>();
  const anomalies: RunDirectory["anomalies"] = [];
  let total = 0;
  let entries = 0;

  /** Reads one regular file through a descriptor that cannot be a symlink; a string says why not. */
  const readFile = (full: string): Uint8Array | string => {
    let fd: number;
    try {
      fd = openSync(full, OPEN_FLAGS);
    } catch (e) {
      return errorCode(e) === "ELOOP" ? "symbolic link (never followed)" : `unreadable (${errorCode(e)})`;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return `${kindOf(st)} (not read)`;
      if (st.size > limits.maxFileBytes) return `larger than ${limits.maxFileBytes} bytes (not read)`;
      if (total + st.size > limits.maxTotalBytes)
        return `run exceeds ${limits.maxTotalBytes} bytes in total (not read)`;
      const bytes = readFileSync(fd);
      total += bytes.length;
      return bytes;
    } finally {
      closeSync(fd);
    }
  };

  const walk = (dir: string, prefix: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      if (prefix === "") throw e;
      anomalies.push({ path: prefix, reason: `unreadable directory (${errorCode(e)})` });
      return;
    }
    // An empty directory is content the manifest cannot list: report it, never ignore it.
    if (names.length === 0 && prefix !== "") anomalies.push({ path: prefix, reason: "empty directory" });
    for (const name of names) {
      const rel = prefix === "" ? name : `${prefix}/${name}`;
      // volatile/ is never fingerprinted or compared (docs/design.md §4): not read at all.
      if (rel === "volatile") continue;
      if (++entries > limits.maxEntries) {
        anomalies.push({ path: rel, reason: `more than ${limits.maxEntries} entries in the run (not read)` });
        return;
      }
      const full = join(dir, name);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(full);
      } catch (e) {
        anomalies.push({ path: rel, reason: `unreadable (${errorCode(e)})` });
        continue;
      }
      if (st.isSymbolicLink()) anomalies.push({ path: rel, reason: "symbolic link (never followed)" });
      else if (st.isDirectory()) {
        if (depth >= limits.maxDepth) anomalies.push({ path: rel, reason: "nested too deeply (not read)" });
        else walk(full, rel, depth + 1);
      } else if (!st.isFile()) {
        // A FIFO, socket or device is a finding, never opened: opening a FIFO blocks until a writer comes.
        anomalies.push({ path: rel, reason: `${kindOf(st)} (never opened)` });
      } else {
        const read = readFile(full);
        if (typeof read === "string") anomalies.push({ path: rel, reason: read });
        else files.set(rel, read);
      }
    }
  };

  try {
    walk(runDir, "", 0);
  } catch (e) {
    throw new InputError("E_NOT_A_RUN", `cannot read the run directory (${errorCode(e)})`, { file: runDir });
  }
  return { files, anomalies };
}

/** A run directory, read and parsed once: the bytes, what was not read, the parsed view and its problems. */
export interface OpenedRun extends RunDirectory {
  runDir: string;
  view: RunView;
  problems: ReadProblem[];
}

export function openRun(runDir: string, limits: RunReadLimits = RUN_READ_LIMITS): OpenedRun {
  const { files, anomalies } = readRunDirectory(runDir, limits);
  const { view, problems } = toRunView(files, anomalies);
  return { runDir, files, anomalies, view, problems };
}

const PARSED_FILES = {
  spec: RUN_FILES.spec,
  plan: RUN_FILES.plan,
  trace: RUN_FILES.trace,
  run: RUN_FILES.run,
  answer: RUN_FILES.answer,
  report: RUN_FILES.report,
} as const;
type ParsedPart = keyof typeof PARSED_FILES;

/**
 * The parts of a run a command cannot work without, or bad input naming the first file that
 * does not parse: diffing or replaying a broken file would blame a layer for it.
 */
export function requireParts<K extends ParsedPart>(
  run: OpenedRun,
  parts: readonly K[],
): { [P in K]: NonNullable<RunView[P]> } {
  const out: Partial<Record<ParsedPart, unknown>> = {};
  for (const part of parts) {
    const value = run.view[part];
    if (value === null) {
      const path = PARSED_FILES[part];
      const why = run.problems.find((p) => p.params.path === path);
      throw new InputError(
        "E_NOT_A_RUN",
        `${why === undefined ? `${path} is unreadable` : renderReadProblem(why)}: run \`canon-reason verify\` on it first`,
        { file: run.runDir },
      );
    }
    out[part] = value;
  }
  return out as { [P in K]: NonNullable<RunView[P]> };
}

/** A timings file is small; anything larger is not a timing file this program wrote. */
const MAX_TIMINGS_BYTES = 1024 * 1024;

/**
 * A small JSON file that is never fingerprinted, so never trusted (timings): its parsed value,
 * or null when absent, a symlink, a special or oversized file, or anything that does not parse.
 */
export function readUntrustedJson<T>(path: string, schema: z.ZodType<T>): T | null {
  let fd: number;
  try {
    // O_NONBLOCK (in OPEN_FLAGS): a FIFO swapped in here must not hang the reader; fstat then refuses it.
    fd = openSync(path, OPEN_FLAGS);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_TIMINGS_BYTES) return null;
    return schema.safeParse(JSON.parse(readFileSync(fd, "utf8"))).data ?? null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The run's volatile/timings.json (see readUntrustedJson). Only pages show them. */
export function readRunTimings(runDir: string): RunTimings | null {
  return readUntrustedJson(join(runDir, VOLATILE_TIMINGS), RunTimings);
}
