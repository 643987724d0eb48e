/** What every route plugin is handed: the artifacts root, the corpus roots and the registry. */
import { lstatSync } from "node:fs";
import { dirname, join } from "node:path";
import type { PgRegistry, Registry } from "../app/registry.js";
import { registryCacheRoot } from "../app/registry.js";
import type { RetrievalCache } from "../app/run/retrieval-cache.js";
import { runsRoot } from "../app/store/artifacts.js";
import { type OpenedRun, openRun } from "../app/verify/verify.js";
import { CanonError } from "../core/errors.js";
import type { JobQueue } from "../queue/queue.js";

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
  /** With `serve --queue`: where `Prefer: respond-async` runs go, and the registry workers read snapshots from. */
  queue?: { jobs: JobQueue; registry: PgRegistry } | undefined;
}

/** A run opened by the service, and the artifacts root whose store holds what it pins. */
export interface PublishedRun {
  run: OpenedRun;
  storeRoot: string;
}

const isDirectory = (dir: string) => {
  try {
    return lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Where a published run is, without reading it. `id` has already matched the strict run id
 * pattern, so it cannot name anything outside runs/; a symlink in its place is not a run.
 * A run this machine did not make is brought in from a shared registry first (re-hashed on the
 * way), into the registry cache beside the artifacts root.
 */
export async function publishedRunDir(
  ctx: ServiceContext,
  id: string,
): Promise<{ runDir: string; storeRoot: string }> {
  const local = join(runsRoot(ctx.artifactsRoot), id);
  if (isDirectory(local)) return { runDir: local, storeRoot: ctx.artifactsRoot };
  if (ctx.registry.shared) {
    const cacheRoot = registryCacheRoot(ctx.artifactsRoot);
    const cached = join(runsRoot(cacheRoot), id);
    const runDir = isDirectory(cached) ? cached : await ctx.registry.materializeRun(id, cacheRoot);
    if (runDir !== null) return { runDir, storeRoot: dirname(dirname(runDir)) };
  }
  throw new CanonError("E_RUN_NOT_FOUND", `no run ${id}`, { exitCode: 2 });
}

/** A published run (see publishedRunDir), read through the one run reader. */
export async function openPublishedRun(ctx: ServiceContext, id: string): Promise<PublishedRun> {
  const { runDir, storeRoot } = await publishedRunDir(ctx, id);
  return { run: openRun(runDir), storeRoot };
}
