/**
 * Crash debris under an artifacts root: temporary run directories (`runs/.tmp-<id>-<pid>-<rand>`),
 * runs moved aside for replacement (`runs/.trash-<id>-<pid>-<rand>`), half-written store
 * files (`store/**\/<name>.tmp-<pid>-<rand>`), staging folders (`.staging-*-<pid>-<rand>`: an
 * import's, under the artifacts root; an eval's, beside its output folder) and corpus uploads
 * being received by the service (`uploads/.tmp-upload-<pid>-<rand>/`). A writer killed mid-way
 * leaves them behind; the next writer removes what is stale. Stale means: the pid in the name is not a live process on
 * this machine, or the entry is older than one hour (pids are reused, e.g. across container
 * restarts). Another live writer's fresh temporary is never touched, nor one of our own.
 */
import { lstatSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** The `-<pid>-<8 hex>` tail every temporary name ends with (see `tempSuffix`). */
const TEMP_TAIL = /-(\d+)-[0-9a-f]{8}$/;
const RUN_DEBRIS = /^\.(tmp|trash)-/;
const STORE_DEBRIS = /\.tmp-\d+-[0-9a-f]{8}$/;
const STAGING_DEBRIS = /^\.staging-/;
const UPLOAD_DEBRIS = /^\.tmp-upload-/;
export const STALE_AFTER_MS = 60 * 60 * 1000;

/** True when `pid` names a live process on this machine (EPERM: alive, someone else's). */
export function isLiveProcess(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

function isStale(path: string, name: string, now: number): boolean {
  const pid = Number(TEMP_TAIL.exec(name)?.[1]);
  if (pid === process.pid) return false;
  if (!isLiveProcess(pid)) return true;
  try {
    return now - lstatSync(path).mtimeMs > STALE_AFTER_MS;
  } catch {
    return false;
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Removes stale debris in `dir` whose names match `pattern`; returns how many entries went. */
function sweepDir(dir: string, pattern: RegExp, now: number): number {
  let removed = 0;
  for (const name of entries(dir)) {
    if (!pattern.test(name) || !TEMP_TAIL.test(name)) continue;
    const path = join(dir, name);
    if (!isStale(path, name, now)) continue;
    // force: another sweeper may have removed it first.
    rmSync(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** Stale `.tmp-*` / `.trash-*` entries directly under `runs/`. */
export function sweepRunDebris(runsDir: string, now = Date.now()): number {
  return sweepDir(runsDir, RUN_DEBRIS, now);
}

/** Where the service stages corpus uploads while it receives them: inside the artifacts root. */
export const uploadsRoot = (artifactsRoot: string) => join(artifactsRoot, "uploads");

/** Stale `.tmp-upload-*` folders under `uploads/` (an upload the server was killed receiving). */
export function sweepUploadDebris(artifactsRoot: string, now = Date.now()): number {
  return sweepDir(uploadsRoot(artifactsRoot), UPLOAD_DEBRIS, now);
}

/** Stale `*.tmp-<pid>-<rand>` files in the store's shards and ref folders. */
export function sweepStoreDebris(storeRoot: string, now = Date.now()): number {
  let removed = 0;
  for (const top of ["sha256", "refs"]) {
    const base = join(storeRoot, top);
    for (const sub of entries(base)) removed += sweepDir(join(base, sub), STORE_DEBRIS, now);
  }
  return removed;
}

/** Stale `.staging-*-<pid>-<rand>` folders directly under `dir` (import, eval). */
export function sweepStagingDebris(dir: string, now = Date.now()): number {
  return sweepDir(dir, STAGING_DEBRIS, now);
}

const swept = new Set<string>();

/** Sweeps once per process and folder: debris only appears when a writer dies, not while we run. */
export function sweepOnce(key: string, sweep: () => void): void {
  if (swept.has(key)) return;
  swept.add(key);
  try {
    sweep();
  } catch {
    // Cleaning up is best effort: it must never fail the write it precedes.
  }
}
