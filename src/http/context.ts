/** What every route plugin is handed: the artifacts root, the corpus roots and the registry. */
import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { RetrievalCache } from "../app/retrieval-cache.js";
import { CanonError } from "../core/errors.js";
import { type OpenedRun, openRun } from "../io/run-reader.js";
import { runsRoot } from "../io/run-writer.js";
import type { Registry } from "../registry/registry.js";

export interface ServiceContext {
  artifactsRoot: string;
  corpusRoots: readonly string[];
  registry: Registry;
  /** Recently used snapshots and indexes, kept in memory (bounded). */
  retrieval: RetrievalCache;
  /**
   * The llm reasoner's endpoint, set by the operator (serve --model-base-url; may carry
   * user:password). A request cannot name one: the server's key would go to any host it names.
   */
  modelBaseUrl?: string | undefined;
}

/**
 * A published run, read through the one run reader. `id` has already matched the strict run
 * id pattern, so it cannot name anything outside runs/; a symlink in its place is not a run.
 */
export function openPublishedRun(ctx: ServiceContext, id: string): OpenedRun {
  const dir = join(runsRoot(ctx.artifactsRoot), id);
  let isDir = false;
  try {
    isDir = lstatSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new CanonError("E_RUN_NOT_FOUND", `no run ${id}`, { exitCode: 2 });
  return openRun(dir);
}
