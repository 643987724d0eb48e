// Index bytes in format 2 (what runs write) and format 3 (compressed postings), on BEIR SciFact
// and English Wikipedia passages: builds each index in one thread, serializes it both ways, reads
// both back, and checks format 3 gives back the same chunk ids and impacts (so the same rankings).
//   node --max-old-space-size=12000 bench/index-format.mjs            all 887,733 passages, bench/results/index-format-3.json
//   node bench/index-format.mjs --passages N                          the first N, printed, not recorded
import { createReadStream, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { buildIndex } from "../dist/core/retrieval/bm25/bm25-build.js";
import { deserializeIndex, serializeIndex } from "../dist/core/retrieval/bm25/bm25-format.js";
import { machine, requireDataset, writeResult } from "./lib.mjs";

const ALL = 887_733;
const PARAMS = { k1: 1.2, b: 0.75, chunkChars: 800, overlapChars: 200, analyzer: "english", titles: true };
let limit = ALL;
if (process.argv.length > 2) {
  const n = /^[1-9][0-9]{0,6}$/.test(process.argv[3] ?? "") ? Number(process.argv[3]) : Number.NaN;
  if (process.argv[2] !== "--passages" || process.argv.length !== 4 || !(n <= ALL)) {
    console.error(`usage: node bench/index-format.mjs [--passages N], N from 1 to ${ALL}`);
    process.exit(2);
  }
  limit = n;
}
const docs = [];
const lines = createInterface({
  input: createReadStream(requireDataset("wikipedia-passages/passages.jsonl.gz")).pipe(createGunzip()),
  crlfDelay: Number.POSITIVE_INFINITY,
});
for await (const line of lines) {
  if (docs.length >= limit) break;
  const d = JSON.parse(line);
  docs.push({ docId: d.doc_id, title: d.title, text: d.text });
}
const loadBefore = loadavg();
// Wall-clock and CPU milliseconds (user + system, all threads): on a shared machine the wall
// clock moves with other jobs' load, CPU time much less.
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const timed = (f) => {
  const t = performance.now();
  const c = cpuMs();
  const value = f();
  return [value, performance.now() - t, cpuMs() - c];
};
const equal = (a, b) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

function sizes(index) {
  const f2 = serializeIndex(index, 2);
  const f3 = serializeIndex(index, 3);
  const read3 = deserializeIndex(f3);
  return {
    chunks: index.stats.chunks,
    postings: index.stats.postings,
    bytes_format_2: f2.byteLength,
    bytes_format_3: f3.byteLength,
    format_3_same_chunk_ids: equal(read3.arrays.postChunk, index.arrays.postChunk),
    format_3_same_impacts: equal(read3.arrays.postImpact, index.arrays.postImpact),
  };
}
const scifactDir = requireDataset("scifact");
const scifact = sizes(
  buildIndex(
    readFileSync(join(scifactDir, "corpus.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l))
      .map((d) => ({ docId: d._id, title: d.title ?? "", text: d.text })),
    PARAMS,
  ),
);
const index = buildIndex(docs, PARAMS);
const passages = docs.length;
docs.length = 0;
const [f2, serialize2, serialize2Cpu] = timed(() => serializeIndex(index, 2));
const [f3, serialize3, serialize3Cpu] = timed(() => serializeIndex(index, 3));
const [, load2, load2Cpu] = timed(() => deserializeIndex(f2));
const [read3, load3, load3Cpu] = timed(() => deserializeIndex(f3));
const result = {
  benchmark: "index-format-3",
  machine: machine(),
  params: PARAMS,
  scifact,
  passages,
  chunks: index.stats.chunks,
  postings: index.stats.postings,
  bytes_format_2: f2.byteLength,
  bytes_format_3: f3.byteLength,
  ratio_format_2_over_3: f2.byteLength / f3.byteLength,
  serialize_ms: { format_2: serialize2, format_3: serialize3 },
  read_and_check_ms: { format_2: load2, format_3: load3 },
  serialize_cpu_ms: { format_2: serialize2Cpu, format_3: serialize3Cpu },
  read_and_check_cpu_ms: { format_2: load2Cpu, format_3: load3Cpu },
  format_3_same_chunk_ids: equal(read3.arrays.postChunk, index.arrays.postChunk),
  format_3_same_impacts: equal(read3.arrays.postImpact, index.arrays.postImpact),
  load_average: { before: loadBefore, after: loadavg() },
  load_note: "on a 2-core machine shared with other jobs: times move with its load, sizes are exact",
};
console.log(JSON.stringify(result, null, 2));
if (limit === ALL) console.error(`wrote ${writeResult("index-format-3", result)}`);
