/**
 * Where a request's corpus may come from (docs/design.md §8): a `sha256:` snapshot already in the store,
 * or a path relative to one of the `--corpus-root` folders. Anything else — an absolute path,
 * a `..` segment, a symlink that resolves outside the root — is refused before anything is
 * read: a client must never make the server read a file it was not given. Symlinks inside a
 * corpus folder are never followed by the corpus reader itself.
 */
import { realpathSync } from "node:fs";
import { isAbsolute, resolve, sep } from "node:path";
import { snapshotHashOf } from "../app/run/run-spec.js";
import { storeHas } from "../app/store/corpus.js";
import { HttpError } from "./problem.js";

/** The corpus as runJob should read it: the snapshot ref, or the real path inside a root. */
export function resolveCorpus(corpus: string, roots: readonly string[], artifactsRoot: string): string {
  const pinned = snapshotHashOf(corpus);
  if (pinned !== null) {
    if (!storeHas(artifactsRoot, pinned))
      throw new HttpError(404, "E_CORPUS_PATH", `corpus snapshot ${corpus} is not in the store`, {
        field: "spec.constraints.corpus",
      });
    return corpus;
  }
  const segments = corpus.split(/[\\/]/);
  if (
    isAbsolute(corpus) ||
    /^[a-zA-Z]:/.test(corpus) ||
    corpus.includes("\0") ||
    segments.some((s) => s === "..")
  ) {
    throw new HttpError(
      400,
      "E_CORPUS_PATH",
      "a corpus is a path relative to a corpus root (no absolute path, no ..) or a sha256: snapshot",
      { field: "spec.constraints.corpus" },
    );
  }
  for (const root of roots) {
    let real: string;
    let realRoot: string;
    try {
      realRoot = realpathSync(root);
      real = realpathSync(resolve(realRoot, corpus));
    } catch {
      continue; // not under this root
    }
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      throw new HttpError(403, "E_CORPUS_FORBIDDEN", "the corpus path resolves outside its corpus root", {
        field: "spec.constraints.corpus",
      });
    }
    return real;
  }
  throw new HttpError(
    404,
    "E_CORPUS_PATH",
    roots.length === 0
      ? "this server has no --corpus-root: name a sha256: snapshot already in its store"
      : "no such corpus under the corpus roots",
    { field: "spec.constraints.corpus" },
  );
}
