/**
 * An index build split across worker threads: the documents are cut into consecutive shards of
 * about equal text size, this thread collects the first while workers collect the others
 * (core/retrieval/bm25/bm25-collect.ts), this thread plans the merge from the shards' summaries, and
 * every thread writes its own shard's postings into shared output arrays at the planned slots
 * (core/retrieval/bm25/bm25-merge.ts). Only summaries cross threads, never postings. The bytes are
 * those of a single-thread build: the plan puts each term's postings in document order.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CanonError } from "../../core/errors.js";
import { getAnalyzer } from "../../core/retrieval/analyzer.js";
import {
  assembleIndex,
  buildIndex,
  checkDistinctDocIds,
  collectShard,
  type IndexDocument,
  type IndexShard,
  planMerge,
  type ScatterTarget,
  type ShardSummary,
  scatterPostings,
  scatterTarget,
} from "../../core/retrieval/bm25/bm25-build.js";
import type { Bm25Index, Bm25Params } from "../../core/retrieval/bm25/bm25-index.js";
import type { ShardReply, ShardRequest } from "./index-build-thread.js";

/** The most threads a build uses: more only costs memory on the machines this runs on. */
export const MAX_INDEX_WORKERS = 16;

/** Cuts docs into `parts` consecutive runs of about equal text length (never an empty run). */
function splitDocs(docs: readonly IndexDocument[], parts: number): IndexDocument[][] {
  const total = docs.reduce((n, d) => n + d.text.length, 0);
  const runs: IndexDocument[][] = [];
  let run: IndexDocument[] = [];
  let done = 0;
  for (const doc of docs) {
    run.push(doc);
    done += doc.text.length;
    if (runs.length < parts - 1 && done >= (total * (runs.length + 1)) / parts) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

const WORKER_URL = new URL("./index-build-thread.js", import.meta.url);

/**
 * True when the worker entry sits beside this module (the built package). Run from its
 * TypeScript sources (the test runner), it does not, and a build stays in the calling thread.
 */
export const workersAvailable = (): boolean => existsSync(fileURLToPath(WORKER_URL));

/** A worker collecting one shard: its summary, then its postings written where it is told. */
interface ShardWorker {
  summary: Promise<ShardSummary>;
  write(target: ScatterTarget): Promise<void>;
  stop(): void;
}

/** node:worker_threads, loaded by the builds that start a worker (a run that loads its index never does). */
type Threads = typeof import("node:worker_threads");

function startWorker(workerThreads: Threads, request: ShardRequest): ShardWorker {
  const worker = new workerThreads.Worker(WORKER_URL, { workerData: request });
  // Each reply settles the step waiting for it; an error or an early exit settles whichever waits.
  let waiting: { resolve: (reply: ShardReply) => void; reject: (e: unknown) => void } | null = null;
  let failed: unknown = null;
  const next = () =>
    new Promise<ShardReply>((resolve, reject) => {
      if (failed !== null) reject(failed);
      else waiting = { resolve, reject };
    });
  const settle = (reply: ShardReply | null, error: unknown) => {
    const w = waiting;
    waiting = null;
    if (reply !== null) w?.resolve(reply);
    else {
      failed ??= error;
      w?.reject(failed);
    }
  };
  worker.on("message", (reply: ShardReply) => {
    if (reply.error === undefined) return settle(reply, null);
    const e = reply.error;
    settle(
      null,
      e.code === undefined
        ? new Error(`index worker failed: ${e.message}`)
        : new CanonError(e.code, e.message, { exitCode: e.exitCode ?? 3, where: e.where ?? {} }),
    );
  });
  worker.once("error", (error) => settle(null, error));
  worker.once("exit", (code) =>
    settle(null, new Error(`index worker exited with code ${code} before it was done`)),
  );
  const summary = next().then((reply) => {
    if (reply.summary === undefined) throw new Error("the index worker sent no shard summary");
    return { ...reply.summary, docIds: request.docs.map((d) => d.docId) };
  });
  return {
    summary,
    write: async (target) => {
      const done = next();
      worker.postMessage(target);
      if ((await done).written !== true) throw new Error("the index worker did not write its postings");
      void worker.terminate();
    },
    stop: () => void worker.terminate(),
  };
}

/** A shard collected in this thread, with the same interface as a worker's. */
function localShard(shard: IndexShard, params: Bm25Params): ShardWorker {
  return {
    summary: Promise.resolve(shard),
    write: async (target) => scatterPostings(shard.postings, shard.chunkLen, params, target),
    stop: () => {},
  };
}

/** Refuses a doc id two runs share (each shard refuses its own repeats). */
function checkDistinctRuns(runs: readonly IndexDocument[][]): void {
  checkDistinctDocIds(runs.map((run) => ({ docIds: run.map((d) => d.docId) })));
}

/**
 * Plans the merge of the shards, has each write its postings into shared arrays, and assembles
 * the index. `meanwhile` runs in this thread before it waits for the workers' summaries, on
 * time it would spend waiting (a worker starts later and reads its documents first).
 */
async function mergeInThreads(
  shards: readonly ShardWorker[],
  params: Bm25Params,
  meanwhile: () => void,
): Promise<Bm25Index> {
  try {
    meanwhile();
    const summaries = await Promise.all(shards.map((s) => s.summary));
    const plan = planMerge(summaries);
    const postChunk = new Uint32Array(new SharedArrayBuffer(plan.postings * 4));
    const postImpact = new Float32Array(new SharedArrayBuffer(plan.postings * 4));
    // Last shard first: the workers' are told where to write before this thread writes its
    // own (the first, when this thread collected one), so they write side by side.
    const written: Promise<void>[] = [];
    for (let i = shards.length - 1; i >= 0; i--) {
      written.push((shards[i] as ShardWorker).write(scatterTarget(plan, i, { postChunk, postImpact })));
    }
    await Promise.all(written);
    const analyzer = getAnalyzer(params.analyzer);
    return assembleIndex(
      summaries,
      plan,
      params,
      { id: analyzer.id, version: analyzer.version },
      postChunk,
      postImpact,
    );
  } finally {
    for (const s of shards) s.stop();
  }
}

/**
 * Builds the index of `docs` with `threads` threads in all (this one included). One thread, or
 * fewer documents than threads, is the plain single-thread build. `offThread` (the service,
 * issue 21 item 3): every shard, even a single one, is collected in a worker, so the calling
 * thread's event loop only plans the merge; the bytes are the same either way.
 */
export async function buildIndexInThreads(
  docs: readonly IndexDocument[],
  params: Bm25Params,
  threads: number,
  onProgress?: (bytesDone: number) => void,
  options: { offThread?: boolean } = {},
): Promise<Bm25Index> {
  const runs = splitDocs(docs, Math.max(1, Math.min(MAX_INDEX_WORKERS, Math.floor(threads))));
  if (options.offThread === true && docs.length > 0 && workersAvailable()) {
    const workerThreads = await import("node:worker_threads");
    const shards = runs.map((run) => startWorker(workerThreads, { docs: run, params }));
    for (const s of shards) s.summary.catch(() => {});
    const index = await mergeInThreads(shards, params, () => checkDistinctRuns(runs));
    onProgress?.(index.stats.textBytes);
    return index;
  }
  if (runs.length <= 1) return buildIndex(docs, params, onProgress);
  const workerThreads = await import("node:worker_threads");
  const workers = runs.slice(1).map((run) => startWorker(workerThreads, { docs: run, params }));
  // Rejections are awaited in mergeInThreads; until then they must not count as unhandled.
  for (const w of workers) w.summary.catch(() => {});
  let first: IndexShard;
  try {
    first = collectShard(runs[0] as IndexDocument[], params, onProgress);
  } catch (error) {
    for (const w of workers) w.stop();
    throw error;
  }
  const index = await mergeInThreads([localShard(first, params), ...workers], params, () =>
    checkDistinctRuns(runs),
  );
  onProgress?.(index.stats.textBytes);
  return index;
}
