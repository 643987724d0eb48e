/**
 * The parallel index build through real worker threads (the built package's worker entry, so
 * `npm run build` first): the same bytes with 1, 2, 3 and 4 threads and with every shard in a
 * worker, a term frequency past 16 bits included; a doc id repeated within a worker's shard or
 * across two threads' shards is refused as the single-thread build refuses it.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/cli.js";

const dist = (path: string) => join(REPO, "dist", path);
const PARAMS = { k1: 1.2, b: 0.75, chunkChars: 80_000, overlapChars: 40, analyzer: "english", titles: true };

interface Doc {
  docId: string;
  text: string;
  title?: string;
}

function corpus(): Doc[] {
  const docs: Doc[] = [];
  for (let d = 0; d < 240; d++) {
    const words = Array.from({ length: 10 + ((d * 29) % 300) }, (_, i) => `w${(i * d) % 887} tide${d % 11}`);
    const text = d % 5 === 0 ? `Ærø naïve ${words.join(" ")} ½` : words.join(" ");
    docs.push(d % 4 === 0 ? { docId: `d${d}`, text } : { docId: `d${d}`, title: `Title ${d % 9}`, text });
  }
  // One chunk with a frequency of 70,000 (over 16 bits), in the middle of the documents.
  docs.splice(130, 0, { docId: "many", text: "zeta ".repeat(70_000) });
  return docs;
}

describe("index build in worker threads", () => {
  it("gives the single-thread bytes with 2, 3 and 4 threads and off the calling thread", async () => {
    const { buildIndexInThreads, workersAvailable } = await import(
      dist("io/index-cache/index-build-pool.js")
    );
    const { serializeIndex } = await import(dist("core/retrieval/bm25/bm25-format.js"));
    expect(workersAvailable()).toBe(true);
    const docs = corpus();
    const bytes = async (threads: number, offThread = false) =>
      Buffer.from(serializeIndex(await buildIndexInThreads(docs, PARAMS, threads, undefined, { offThread })));
    const single = await bytes(1);
    for (const threads of [2, 3, 4]) expect((await bytes(threads)).equals(single)).toBe(true);
    expect((await bytes(1, true)).equals(single)).toBe(true);
    expect((await bytes(3, true)).equals(single)).toBe(true);
  });

  it("refuses a doc id two threads' shards share, with the single-thread build's error", async () => {
    const { buildIndexInThreads } = await import(dist("io/index-cache/index-build-pool.js"));
    const docs = corpus();
    const last = docs.length - 1;
    docs[last] = { ...(docs[last] as Doc), docId: "d3" };
    for (const [threads, offThread] of [
      [1, false],
      [2, false],
      [3, true],
    ] as const)
      await expect(
        buildIndexInThreads(docs, PARAMS, threads, undefined, { offThread }),
      ).rejects.toMatchObject({
        code: "E_CORPUS_DUPLICATE",
        message: 'duplicate doc_id "d3"',
      });
    // Both copies in the last shard: the worker that collects it refuses them.
    docs[last - 1] = { ...(docs[last - 1] as Doc), docId: "d3" };
    docs[last] = { ...(docs[last] as Doc), docId: "d3" };
    docs[3] = { ...(docs[3] as Doc), docId: "third" };
    await expect(buildIndexInThreads(docs, PARAMS, 2)).rejects.toMatchObject({
      code: "E_CORPUS_DUPLICATE",
      exitCode: 2,
      message: 'duplicate doc_id "d3"',
    });
  });
});
