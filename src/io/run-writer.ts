/**
 * Writes a produced run to `runs/<run_id>/` (SPEC §4): into a temporary directory first,
 * renamed into place only when complete, so a crash never leaves a run that verifies.
 * Re-running with the same inputs is idempotent: an identical run already in place is kept.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { jsonFile, RUN_FILES, type RunFiles } from "../core/artifact/files.js";

export function runsRoot(artifactsRoot: string): string {
  return join(artifactsRoot, "runs");
}

export interface WrittenRun {
  runDir: string;
  /** False when an identical run was already in place. */
  created: boolean;
}

/** True when `path` holds exactly `bytes`, or when neither exists. */
function sameFile(path: string, bytes: Uint8Array | undefined): boolean {
  if (!existsSync(path)) return bytes === undefined;
  return bytes !== undefined && Buffer.compare(readFileSync(path), bytes) === 0;
}

export function writeRun(
  artifactsRoot: string,
  runId: string,
  files: RunFiles,
  volatile: Readonly<Record<string, unknown>> = {},
): WrittenRun {
  const root = runsRoot(artifactsRoot);
  const runDir = join(root, runId);
  const manifest = files.get(RUN_FILES.manifest);
  if (manifest === undefined) throw new Error("refusing to write a run without a manifest");
  if (
    sameFile(join(runDir, RUN_FILES.manifest), manifest) &&
    sameFile(join(runDir, RUN_FILES.signature), files.get(RUN_FILES.signature))
  ) {
    return { runDir, created: false };
  }
  // Temporary names only need to be unique; they never reach a fingerprinted file.
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = join(root, `.tmp-${runId}-${suffix}`);
  try {
    for (const [path, bytes] of files) {
      const target = join(tmp, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, bytes);
    }
    for (const [name, value] of Object.entries(volatile)) {
      mkdirSync(join(tmp, "volatile"), { recursive: true });
      writeFileSync(join(tmp, "volatile", `${name}.json`), jsonFile(value));
    }
    if (existsSync(runDir)) {
      // A different run directory under this id is damaged or stale: move it aside, then replace it.
      const trash = join(root, `.trash-${runId}-${suffix}`);
      renameSync(runDir, trash);
      renameSync(tmp, runDir);
      rmSync(trash, { recursive: true, force: true });
    } else {
      renameSync(tmp, runDir);
    }
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  return { runDir, created: true };
}
