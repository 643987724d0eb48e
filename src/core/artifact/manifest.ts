/** manifest.json (docs/design.md §4): sha256 of every fingerprinted file and one root digest over them. */
import { canonicalJson, sha256Hex } from "../canonical.js";
import { MANIFEST_VERSION, type Manifest } from "../models/run.js";
import { isUnfingerprinted, type RunFiles } from "./files.js";

export function rootDigest(files: Readonly<Record<string, string>>): string {
  return sha256Hex(canonicalJson(files));
}

export function buildManifest(runId: string, files: RunFiles): Manifest {
  const hashes: Record<string, string> = {};
  for (const path of [...files.keys()].sort()) {
    if (!isUnfingerprinted(path)) hashes[path] = sha256Hex(files.get(path) as Uint8Array);
  }
  return {
    version: MANIFEST_VERSION,
    run_id: runId,
    algorithm: "sha256",
    files: hashes,
    root_digest: rootDigest(hashes),
  };
}
