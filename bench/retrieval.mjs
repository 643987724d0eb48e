// Retrieval at scale on real text: English Wikipedia passages (887,733 paragraphs, 401 MB of text
// in 459 MB of JSON lines, 155 MB gzipped; MB/s figures are on the 401 MB of text).
// For each size, a child process builds the BM25 index from the passages in one thread and
// again with 2 threads (the bytes must be equal), then times top-10 queries: the pruned search
// every run uses, and at the largest size the exhaustive scorer too, on the same queries.
// Peak memory is the child's own, and peers (MiniSearch, wink-bm25-text-search, Orama) index
// the same chunk texts and answer the same queries in the same process, so their ratios come
// from one run on one machine. Each figure is also given as a ratio to the previous results
// file, so a slowdown shows.
//   node bench/retrieval.mjs                  all sizes, results in bench/results/retrieval.json
//   node bench/retrieval.mjs --sizes 10000,100000   only these passage counts, printed, not recorded
//   node bench/retrieval.mjs --child N        one size (internal)
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { buildIndex } from "../dist/core/retrieval/bm25/bm25-build.js";
import { serializeIndex } from "../dist/core/retrieval/bm25/bm25-format.js";
import { buildIndexInThreads } from "../dist/io/index-cache/index-build-pool.js";
import { machine, REPO, requireDataset, seededRandom, summarize, writeResult } from "./lib.mjs";

const SIZES = [10_000, 100_000, 887_733]; // passages; chunk counts are reported per size
const EXHAUSTIVE_AT = 887_733; // the exhaustive scorer is timed at this size, for the pruning's gain
const PEER_MAX_PASSAGES = 100_000; // peers hold one object per posting: beyond this they exhaust memory or time
const QUERIES = 1000;
const WARMUP = 100;
// Orama and MiniSearch take up to hundreds of ms per query at 100k chunks: fewer queries keep the run to minutes.
const PEER_QUERIES = 200;
const PEER_WARMUP = 10;
const SEED = 20261124;
const PARAMS = { k1: 1.2, b: 0.75, chunkChars: 800, overlapChars: 200, analyzer: "english", titles: true };

async function loadPassages(limit) {
  const file = requireDataset("wikipedia-passages/passages.jsonl.gz");
  const docs = [];
  const lines = createInterface({
    input: createReadStream(file).pipe(createGunzip()),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (docs.length >= limit) break;
    const d = JSON.parse(line);
    docs.push({ docId: d.doc_id, title: d.title, text: d.text });
  }
  return docs;
}

/** Queries: a passage's title plus three words of its text, passages picked by a seeded PRNG. */
function makeQueries(docs) {
  const random = seededRandom(SEED);
  const queries = [];
  for (let i = 0; i < QUERIES + WARMUP; i++) {
    const d = docs[Math.floor(random() * docs.length)];
    const words = d.text.split(/\s+/).filter((w) => /^[A-Za-z]{4,}$/.test(w));
    const picked = Array.from({ length: 3 }, () => words[Math.floor(random() * words.length)] ?? "");
    queries.push(`${d.title} ${picked.join(" ")}`.trim());
  }
  return queries;
}

/** A peer may stop early after this much query time: the figures then cover the queries it answered. */
const QUERY_BUDGET_MS = 60_000;

async function timeQueries(search, queries, count = QUERIES, warmup = WARMUP) {
  for (const q of queries.slice(0, warmup)) await search(q);
  const samples = [];
  const t0 = performance.now();
  for (const q of queries.slice(WARMUP, WARMUP + count)) {
    const t = performance.now();
    await search(q);
    samples.push(performance.now() - t);
    if (performance.now() - t0 > QUERY_BUDGET_MS) break;
  }
  const total = performance.now() - t0;
  return { ...summarize(samples), queries_per_second: Math.round((samples.length / total) * 1000) };
}

async function peers(chunkTexts, queries, textMB) {
  const require = createRequire(import.meta.url);
  const out = {};
  const docs = chunkTexts.map((text, id) => ({ id, text }));
  {
    const { default: MiniSearch } = await import("minisearch");
    const t = performance.now();
    const ms = new MiniSearch({ fields: ["text"], storeFields: [] });
    ms.addAll(docs);
    const buildS = (performance.now() - t) / 1000;
    out.minisearch = {
      build_mb_per_s: textMB / buildS,
      query: await timeQueries((q) => ms.search(q).slice(0, 10), queries, PEER_QUERIES, PEER_WARMUP),
    };
  }
  {
    const bm25 = require("wink-bm25-text-search");
    const nlp = require("wink-nlp-utils");
    const t = performance.now();
    const engine = bm25();
    engine.defineConfig({ fldWeights: { text: 1 }, bm25Params: { k1: 1.2, b: 0.75 } });
    engine.definePrepTasks([
      nlp.string.lowerCase,
      nlp.string.removeExtraSpaces,
      nlp.string.tokenize0,
      nlp.tokens.removeWords,
      nlp.tokens.stem,
    ]);
    for (const d of docs) engine.addDoc({ text: d.text }, d.id);
    engine.consolidate();
    const buildS = (performance.now() - t) / 1000;
    out.wink_bm25 = {
      build_mb_per_s: textMB / buildS,
      query: await timeQueries((q) => engine.search(q, 10), queries, PEER_QUERIES, PEER_WARMUP),
    };
  }
  {
    const { create, insertMultiple, search } = await import("@orama/orama");
    const t = performance.now();
    const db = await create({ schema: { text: "string" } });
    await insertMultiple(
      db,
      docs.map((d) => ({ text: d.text })),
      5000,
    );
    const buildS = (performance.now() - t) / 1000;
    out.orama = {
      build_mb_per_s: textMB / buildS,
      query: await timeQueries((q) => search(db, { term: q, limit: 10 }), queries, PEER_QUERIES, PEER_WARMUP),
    };
  }
  return out;
}

async function child(passages) {
  const docs = await loadPassages(passages);
  const queries = makeQueries(docs);
  const textBytes = docs.reduce((n, d) => n + Buffer.byteLength(d.text, "utf8"), 0);
  // Two threads first, so the single-thread build's memory growth is measured on its own.
  let t = performance.now();
  const threaded = await buildIndexInThreads(docs, PARAMS, 2);
  const build2S = (performance.now() - t) / 1000;
  const threadedHash = createHash("sha256").update(serializeIndex(threaded)).digest("hex");
  console.error(`  built ${threaded.stats.chunks} chunks with 2 threads in ${build2S.toFixed(1)} s`);
  const before = process.memoryUsage();
  t = performance.now();
  const index = buildIndex(docs, PARAMS);
  const buildS = (performance.now() - t) / 1000;
  console.error(`  built ${index.stats.chunks} chunks in ${buildS.toFixed(1)} s`);
  const after = process.memoryUsage();
  const serialized = serializeIndex(index);
  if (createHash("sha256").update(serialized).digest("hex") !== threadedHash)
    throw new Error("the 2-thread build's bytes differ from the single-thread build's");
  const indexBytes = serialized.byteLength;
  const ours = {
    build_seconds: buildS,
    build_mb_per_s: textBytes / 1e6 / buildS,
    build_seconds_2_threads: build2S,
    build_mb_per_s_2_threads: textBytes / 1e6 / build2S,
    index_bytes: indexBytes,
    index_bytes_per_chunk: indexBytes / index.stats.chunks,
    heap_and_buffers_growth_bytes_per_chunk:
      (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / index.stats.chunks,
    query: await timeQueries((q) => index.search(q, 10), queries),
  };
  if (docs.length >= EXHAUSTIVE_AT) {
    ours.query_exhaustive = await timeQueries((q) => index.searchExhaustive(q, 10), queries);
    ours.query_pruned_only = await timeQueries((q) => index.topChunksPruned(q, 10), queries);
    // The pruning is exact: the same top-10 (chunks, unrounded scores, order) on every query,
    // and so is the search that picks its method by cost.
    const equal = (p, e) =>
      p.chunks.length === e.chunks.length &&
      p.chunks.every((c, i) => c === e.chunks[i] && Object.is(p.scores[i], e.scores[i]));
    const same = (q) =>
      equal(index.topChunksPruned(q, 10), index.topChunksExhaustive(q, 10)) &&
      equal(index.topChunks(q, 10), index.topChunksExhaustive(q, 10));
    ours.queries_pruned_equal_exhaustive = `${queries.filter(same).length}/${queries.length}`;
  }
  const result = {
    passages: docs.length,
    chunks: index.stats.chunks,
    postings: index.stats.postings,
    terms: index.stats.terms,
    text_mb: textBytes / 1e6,
    canon_reason: ours,
  };
  if (docs.length <= PEER_MAX_PASSAGES) {
    const a = index.arrays;
    const bytesOf = new Map(docs.map((d) => [d.docId, Buffer.from(d.text, "utf8")]));
    const chunkTexts = Array.from({ length: index.stats.chunks }, (_, c) =>
      bytesOf.get(a.docIds[a.chunkDoc[c]]).subarray(a.chunkStart[c], a.chunkEnd[c]).toString("utf8"),
    );
    result.peers = await peers(chunkTexts, queries, textBytes / 1e6);
    for (const peer of Object.values(result.peers)) {
      peer.ratio_build_speed_ours_over_peer = ours.build_mb_per_s / peer.build_mb_per_s;
      peer.ratio_query_p50_peer_over_ours = peer.query.p50_ms / ours.query.p50_ms;
    }
  }
  result.peak_rss_bytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify(result));
}

/** This run's figures over the previous results file's, size by size (above 1: higher now). */
function ratiosToPrevious(previous, sizes) {
  if (previous === null) return null;
  const out = [];
  for (const size of sizes) {
    const before = previous.sizes?.find((s) => s.passages === size.passages)?.canon_reason;
    if (before === undefined) continue;
    const now = size.canon_reason;
    const ratio = (a, b) => (typeof a === "number" && typeof b === "number" && b !== 0 ? a / b : null);
    out.push({
      passages: size.passages,
      build_mb_per_s: ratio(now.build_mb_per_s, before.build_mb_per_s),
      queries_per_second: ratio(now.query.queries_per_second, before.query.queries_per_second),
      p50_ms: ratio(now.query.p50_ms, before.query.p50_ms),
      p99_ms: ratio(now.query.p99_ms, before.query.p99_ms),
      index_bytes_per_chunk: ratio(now.index_bytes_per_chunk, before.index_bytes_per_chunk),
    });
  }
  return out;
}

/** The --sizes list: passage counts from 1 to the corpus size, or null without the flag. */
function sizesFlag(argv) {
  if (argv[2] !== "--sizes") return null;
  const list = (argv[3] ?? "").split(",");
  const sizes = list.map((x) => (/^[1-9][0-9]{0,6}$/.test(x) ? Number(x) : Number.NaN));
  if (argv.length !== 4 || sizes.some((n) => !(n <= SIZES[SIZES.length - 1]))) {
    console.error(
      `--sizes takes one comma-separated list of passage counts from 1 to ${SIZES[SIZES.length - 1]} (got ${JSON.stringify(argv.slice(3).join(" "))})`,
    );
    process.exit(2);
  }
  return sizes;
}

if (process.argv[2] === "--child") {
  await child(Number(process.argv[3]));
} else {
  const only = sizesFlag(process.argv);
  if (only === null && process.argv.length > 2) {
    console.error(
      `unknown arguments ${JSON.stringify(process.argv.slice(2).join(" "))}: use --sizes N,M or nothing`,
    );
    process.exit(2);
  }
  const resultsFile = join(REPO, "bench", "results", "retrieval.json");
  // Read before this run overwrites it: the ratios below compare against it.
  const previous = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")) : null;
  const loadBefore = loadavg();
  const sizes = [];
  for (const passages of only ?? SIZES) {
    console.error(`retrieval: ${passages} passages`);
    const r = spawnSync(
      process.execPath,
      ["--max-old-space-size=16000", new URL(import.meta.url).pathname, "--child", String(passages)],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    if (r.status !== 0) throw new Error(`size ${passages} failed with exit ${r.status}`);
    sizes.push(JSON.parse(r.stdout));
  }
  const result = {
    benchmark: "retrieval-wikipedia",
    machine: machine(),
    corpus: "wikipedia-passages/passages.jsonl.gz (887,733 English Wikipedia paragraphs)",
    params: PARAMS,
    queries: {
      count: QUERIES,
      warmup: WARMUP,
      seed: SEED,
      shape: "passage title + 3 words of its text, top-10",
    },
    load_note:
      "measured on a 2-core machine shared with other jobs (load average below): figures are lower and noisier than on an idle machine",
    load_average: { before: loadBefore, after: loadavg() },
    peers_note: `peers run up to ${PEER_MAX_PASSAGES} passages on the same chunk texts and the first ${PEER_QUERIES} of the same queries (at most ${QUERY_BUDGET_MS / 1000} s of querying each; n says how many ran); each uses its own tokenizer`,
    targets: {
      build_mb_per_s: 40,
      build_mb_per_s_2_threads: 70,
      qps_at_1m_chunks: 3000,
      p99_ms_at_1m: 5,
      index_bytes_per_chunk_at_1m: 1024,
    },
    sizes,
    ratio_to_previous: ratiosToPrevious(previous, sizes),
  };
  console.log(JSON.stringify(result, null, 2));
  // A partial run is for iterating: it must not replace the recorded figures of every size.
  if (only === null) console.error(`wrote ${writeResult("retrieval", result)}`);
}
