/**
 * The artifacts root (docs/design.md §4: runs/ and store/) as a boundary: a root that is a file, a
 * runs/ or store/sha256 that is a file, or a folder we may not write is bad input naming the
 * path (exit 2), found before any work is done rather than as a crash half-way through.
 */
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../core/errors.js";
import { atFsBoundary, type FsBoundary } from "../fs/fs-errors.js";
import { runsRoot } from "../runs/run-writer.js";

function boundary(root: string, path = root): FsBoundary {
  return { code: "E_ARTIFACTS_DIR", doing: "cannot write artifacts", path, field: "--artifacts-dir" };
}

/** Creates the folders a run writes into and checks each is a writable folder. */
export function prepareArtifactsDir(root: string): void {
  for (const dir of [root, runsRoot(root), join(root, "store", "sha256"), join(root, "store", "refs")]) {
    atFsBoundary(boundary(root, dir), () => {
      mkdirSync(dir, { recursive: true });
      if (!statSync(dir).isDirectory()) {
        throw new InputError("E_ARTIFACTS_DIR", "cannot write artifacts: not a folder", {
          file: dir,
          field: "--artifacts-dir",
        });
      }
      // EACCES or EROFS here, not in the middle of writing a run. (Root passes any mode bits.)
      accessSync(dir, constants.W_OK | constants.X_OK);
    });
  }
}

/**
 * Makes the artifacts dir ready (prepareArtifactsDir), then runs `fn` (which writes under
 * `root`), reporting user-fixable file-system errors as bad input: a use case's whole stay there.
 */
export function inArtifactsDir<T>(root: string, fn: () => T): T {
  prepareArtifactsDir(root);
  return atFsBoundary(boundary(root), fn);
}
