/**
 * The worker-thread side of a parallel index build (see index-build-pool.ts), in two steps. First
 * it collects its shard of documents and sends the shard's summary back, its typed arrays
 * moved, not copied; its postings stay here. Then, told where they go (the merge plan's slots,
 * the chunk id base, the average chunk length and the shared output arrays), it writes them
 * and says so. A typed error travels as its code, exit code and message, so the parent
 * rethrows it as the same user-facing error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { CanonError } from "../../core/errors.js";
import {
  collectShard,
  type IndexDocument,
  type IndexShard,
  type ScatterTarget,
  type ShardSummary,
  scatterPostings,
} from "../../core/retrieval/bm25/bm25-build.js";
import type { Bm25Params } from "../../core/retrieval/bm25/bm25-index.js";

export interface ShardRequest {
  docs: IndexDocument[];
  params: Bm25Params;
}

/** The worker's messages: its summary (doc ids left out: the parent has them), then done. */
export interface ShardReply {
  summary?: Omit<ShardSummary, "docIds">;
  written?: true;
  error?: { code?: CanonError["code"]; exitCode?: 1 | 2 | 3; message: string; where?: CanonError["where"] };
}

function fail(port: NonNullable<typeof parentPort>, error: unknown): void {
  const reply: ShardReply = {
    error:
      error instanceof CanonError
        ? { code: error.code, exitCode: error.exitCode, message: error.message, where: error.where }
        : { message: error instanceof Error ? error.message : String(error) },
  };
  port.postMessage(reply);
}

const port = parentPort;
if (port !== null) {
  const { docs, params } = workerData as ShardRequest;
  let shard: IndexShard | null = null;
  try {
    shard = collectShard(docs, params);
    // The documents are not needed again: let this thread's heap give their memory back.
    (workerData as ShardRequest).docs = [];
    const { terms, termPostings, chunkDoc, chunkStart, chunkEnd, chunkLen, textBytes, totalLen } = shard;
    const summary = { terms, termPostings, chunkDoc, chunkStart, chunkEnd, chunkLen, textBytes, totalLen };
    // The summary's arrays are its own and the parent keeps them: move them. chunkLen is
    // needed again here to write the postings, so it is copied.
    const moved = [termPostings, chunkDoc, chunkStart, chunkEnd];
    summary.chunkLen = chunkLen.slice();
    const reply: ShardReply = { summary };
    port.postMessage(
      reply,
      [...moved, summary.chunkLen].map((a) => a.buffer as ArrayBuffer),
    );
  } catch (error) {
    fail(port, error);
  }
  port.once("message", (target: ScatterTarget) => {
    try {
      const own = shard as IndexShard;
      scatterPostings(own.postings, own.chunkLen, params, target);
      shard = null;
      const reply: ShardReply = { written: true };
      port.postMessage(reply);
    } catch (error) {
      fail(port, error);
    }
  });
}
