/**
 * An index build split across worker threads: the documents are cut into consecutive shards of
 * about equal text size, this thread collects the first while workers collect the others, and
 * the pure merge (core/retrieval/bm25-build.ts) joins them. The bytes are those of a
 * single-thread build: shards are merged in document order and term ids sorted after merging.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { CanonError, type ErrorCode } from "../../core/errors.js";
import {
  buildIndex,
  collectShard,
  type IndexDocument,
  type IndexShard,
  mergeShards,
} from "../../core/retrieval/bm25-build.js";
import type { Bm25Index, Bm25Params } from "../../core/retrieval/bm25-index.js";
import type { ShardRequest } from "./index-build-thread.js";

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

interface ShardReply {
  shard?: IndexShard;
  error?: { code?: ErrorCode; exitCode?: 1 | 2 | 3; message: string; where?: CanonError["where"] };
}

const WORKER_URL = new URL("./index-build-thread.js", import.meta.url);

/**
 * True when the worker entry sits beside this module (the built package). Run from its
 * TypeScript sources (the test runner), it does not, and a build stays in the calling thread.
 */
export const workersAvailable = (): boolean => existsSync(fileURLToPath(WORKER_URL));

function collectInWorker(request: ShardRequest): Promise<IndexShard> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: request });
    let settled = false;
    worker.once("message", (reply: ShardReply) => {
      settled = true;
      if (reply.shard !== undefined) resolve(reply.shard);
      else {
        const e = reply.error ?? { message: "the index worker sent nothing" };
        reject(
          e.code === undefined
            ? new Error(`index worker failed: ${e.message}`)
            : new CanonError(e.code, e.message, { exitCode: e.exitCode ?? 3, where: e.where ?? {} }),
        );
      }
      void worker.terminate();
    });
    worker.once("error", (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`index worker exited with code ${code} before sending its shard`));
      settled = true;
    });
  });
}

/**
 * Builds the index of `docs` with `threads` threads in all (this one included). One thread, or
 * fewer documents than threads, is the plain single-thread build. `offThread` (the service,
 * issue 21 item 3): every shard, even a single one, is collected in a worker, so the calling
 * thread's event loop only merges; the bytes are the same either way.
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
    const shards = await Promise.all(runs.map((run) => collectInWorker({ docs: run, params })));
    onProgress?.(shards.reduce((n, s) => n + s.textBytes, 0));
    return mergeShards(shards, params);
  }
  if (runs.length <= 1) return buildIndex(docs, params, onProgress);
  const pending = runs.slice(1).map((run) => collectInWorker({ docs: run, params }));
  // Rejections are awaited below; until then they must not count as unhandled.
  for (const p of pending) p.catch(() => {});
  const first = collectShard(runs[0] as IndexDocument[], params, onProgress);
  const shards = [first, ...(await Promise.all(pending))];
  onProgress?.(shards.reduce((n, s) => n + s.textBytes, 0));
  return mergeShards(shards, params);
}
