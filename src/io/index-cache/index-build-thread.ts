/**
 * The worker-thread side of a parallel index build (see index-build-pool.ts): collects one shard of
 * documents and sends it back, its typed arrays transferred, not copied. A typed error travels
 * as its code, exit code and message, so the parent rethrows it as the same user-facing error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { CanonError } from "../../core/errors.js";
import { collectShard, type IndexDocument } from "../../core/retrieval/bm25-build.js";
import type { Bm25Params } from "../../core/retrieval/bm25-index.js";

export interface ShardRequest {
  docs: IndexDocument[];
  params: Bm25Params;
}

const port = parentPort;
if (port !== null) {
  const { docs, params } = workerData as ShardRequest;
  try {
    const shard = collectShard(docs, params);
    const { postTerm, postTf, chunkPostEnd, chunkDoc, chunkStart, chunkEnd, chunkLen } = shard;
    // The shard's arrays are its own (sliced from the builders), never shared: move them.
    const owned = [postTerm, postTf, chunkPostEnd, chunkDoc, chunkStart, chunkEnd, chunkLen];
    port.postMessage(
      { shard },
      owned.map((a) => a.buffer as ArrayBuffer),
    );
  } catch (error) {
    port.postMessage({
      error:
        error instanceof CanonError
          ? { code: error.code, exitCode: error.exitCode, message: error.message, where: error.where }
          : { message: error instanceof Error ? error.message : String(error) },
    });
  }
}
