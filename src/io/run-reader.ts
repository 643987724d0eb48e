/**
 * Reads a run directory into memory for the verifier and `inspect`. A run is hostile input:
 * symlinks are never followed and oversized files are not read, and both are reported
 * as anomalies so the verifier can fail a check instead of crashing or reading outside.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** No artifact of a real run comes near this; a larger file is a hostile or broken run. */
export const MAX_RUN_FILE_BYTES = 256 * 1024 * 1024;

export interface RunDirectory {
  files: Map<string, Uint8Array>;
  /** Entries that were not read, with why: symlinks, special files, oversized files. */
  anomalies: Array<{ path: string; reason: string }>;
}

export function readRunDirectory(runDir: string): RunDirectory {
  const files = new Map<string, Uint8Array>();
  const anomalies: RunDirectory["anomalies"] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const rel = prefix === "" ? name : `${prefix}/${name}`;
      if (rel === "volatile") continue;
      const full = join(dir, name);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) anomalies.push({ path: rel, reason: "symbolic link (never followed)" });
      else if (st.isDirectory()) walk(full, rel);
      else if (!st.isFile()) anomalies.push({ path: rel, reason: "not a regular file" });
      else if (st.size > MAX_RUN_FILE_BYTES)
        anomalies.push({ path: rel, reason: `larger than ${MAX_RUN_FILE_BYTES} bytes` });
      else files.set(rel, readFileSync(full));
    }
  };
  walk(runDir, "");
  return { files, anomalies };
}
