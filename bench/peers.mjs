// canon-reason against the engines a user would pick instead, side by side in one run on the
// same machine: Lucene 8.8 (Debian's liblucene8-java, a small Java harness compiled here, see
// bench/peers/LuceneBench.java) and bm25s (Python; optional). Every engine gets the same text
// (title + text of each passage), English analysis (stop words and stemming), BM25 k1 1.2,
// b 0.75, one query thread, the same queries after the same warm-up. Lucene indexes whole
// passages; canon-reason indexes 800-character chunks, so it is timed twice: its top-10 chunks
// and its top-10 documents (each by its best chunk, what Lucene returns). Build MB/s are on the
// same bytes for every engine (UTF-8 title + text), and exclude reading the corpus.
// A peer that is not installed is skipped, with the reason in the results. Index bytes are
// given for format 2 (what runs write) and format 3 (compressed postings, same rankings).
//   node bench/peers.mjs                    SciFact and all 887,733 Wikipedia passages, bench/results/peers.json
//   node bench/peers.mjs --passages N       SciFact and the first N passages, printed, not recorded
import { spawnSync } from "node:child_process";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { ndcgAt } from "../dist/core/eval/metrics.js";
import { buildIndex } from "../dist/core/retrieval/bm25/bm25-build.js";
import { serializeIndex } from "../dist/core/retrieval/bm25/bm25-format.js";
import { machine, REPO, requireDataset, seededRandom, summarize, writeResult } from "./lib.mjs";

const WIKIPEDIA_PASSAGES = 887_733;
const SEED = 20261124; // bench/retrieval.mjs's queries
const WIKI_QUERIES = 1000;
const WIKI_WARMUP = 100;
const SCIFACT_WARMUP = 300; // the first 300 claims, then all 1,109 timed
const K = 10;
/** Warm-up passes over the warm-up queries, for every engine (the JVM's JIT needs many calls). */
const WARMUP_PASSES = 5;
const PARAMS = { k1: 1.2, b: 0.75, chunkChars: 800, overlapChars: 200, analyzer: "english", titles: true };
const LUCENE_JARS = [
  "/usr/share/java/lucene-core-8.7.0.jar",
  "/usr/share/java/lucene-analyzers-common-8.7.0.jar",
];

function passagesFlag(argv) {
  if (argv.length === 2) return null;
  const n = /^[1-9][0-9]{0,6}$/.test(argv[3] ?? "") ? Number(argv[3]) : Number.NaN;
  if (argv[2] !== "--passages" || argv.length !== 4 || !(n <= WIKIPEDIA_PASSAGES)) {
    console.error(`usage: node bench/peers.mjs [--passages N], N from 1 to ${WIKIPEDIA_PASSAGES}`);
    process.exit(2);
  }
  return n;
}

function loadScifact() {
  const dir = requireDataset("scifact");
  const read = (file) =>
    readFileSync(join(dir, file), "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l));
  const docs = read("corpus.jsonl").map((d) => ({ docId: d._id, title: d.title ?? "", text: d.text }));
  const claims = read("queries.jsonl");
  const qrels = {};
  for (const line of readFileSync(join(dir, "qrels", "train.tsv"), "utf8")
    .split("\n")
    .slice(1)) {
    const [q, doc, grade] = line.split("\t");
    if (doc === undefined) continue;
    qrels[q] ??= {};
    qrels[q][doc] = Number(grade);
  }
  const timed = claims.map((c) => c.text);
  return { docs, warmup: timed.slice(0, SCIFACT_WARMUP), timed, ids: claims.map((c) => c._id), qrels };
}

async function loadWikipedia(limit) {
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
  const random = seededRandom(SEED);
  const queries = Array.from({ length: WIKI_QUERIES + WIKI_WARMUP }, () => {
    const d = docs[Math.floor(random() * docs.length)];
    const words = d.text.split(/\s+/).filter((w) => /^[A-Za-z]{4,}$/.test(w));
    const picked = Array.from({ length: 3 }, () => words[Math.floor(random() * words.length)] ?? "");
    return `${d.title} ${picked.join(" ")}`.trim();
  });
  return { docs, warmup: queries.slice(0, WIKI_WARMUP), timed: queries.slice(WIKI_WARMUP) };
}

function timeQueries(search, warmup, timed) {
  for (let pass = 0; pass < WARMUP_PASSES; pass++) for (const q of warmup) search(q);
  const samples = [];
  const tops = [];
  const t0 = performance.now();
  for (const q of timed) {
    const t = performance.now();
    tops.push(search(q));
    samples.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  return {
    figures: { ...summarize(samples), queries_per_second: Math.round((samples.length / total) * 1000) },
    tops,
  };
}

function ours(corpus) {
  const t = performance.now();
  const index = buildIndex(corpus.docs, PARAMS);
  const buildS = (performance.now() - t) / 1000;
  const a = index.arrays;
  const docOf = (c) => a.docIds[a.chunkDoc[c]];
  const chunks = timeQueries((q) => index.topChunks(q, K), corpus.warmup, corpus.timed);
  const docs = timeQueries((q) => index.topDocuments(q, K), corpus.warmup, corpus.timed);
  const pruned = timeQueries((q) => index.topChunksPruned(q, K), corpus.warmup, corpus.timed);
  const exhaustive = timeQueries((q) => index.topChunksExhaustive(q, K), corpus.warmup, corpus.timed);
  const methods = {};
  for (const q of corpus.timed) {
    const m = index.methodFor(q, K);
    methods[m] = (methods[m] ?? 0) + 1;
  }
  return {
    chunks: index.stats.chunks,
    build_seconds: buildS,
    index_bytes: serializeIndex(index).byteLength,
    index_bytes_format_3: serializeIndex(index, 3).byteLength,
    query_chunks: chunks.figures,
    query_documents: docs.figures,
    query_chunks_pruned_only: pruned.figures,
    query_chunks_exhaustive_only: exhaustive.figures,
    methods_picked: methods,
    tops: docs.tops.map((r) => r.chunks.map(docOf)),
  };
}

/** Why Lucene cannot run here, or null when it can. */
function luceneMissing() {
  const missing = LUCENE_JARS.filter((j) => !existsSync(j));
  if (missing.length > 0) return `${missing.join(", ")} not found: apt-get install liblucene8-java`;
  for (const tool of ["java", "javac"])
    if (spawnSync(tool, ["-version"], { encoding: "utf8" }).status !== 0) return `${tool} is not installed`;
  return null;
}

const oneLine = (s) => s.replace(/[\t\r\n]+/g, " ");

function lucene(corpus, work) {
  const classes = join(work, "classes");
  mkdirSync(classes, { recursive: true });
  const cp = LUCENE_JARS.join(":");
  const javac = spawnSync(
    "javac",
    ["-d", classes, "-cp", cp, join(REPO, "bench", "peers", "LuceneBench.java")],
    {
      encoding: "utf8",
    },
  );
  if (javac.status !== 0) throw new Error(`javac failed: ${javac.stderr}`);
  const docsFile = join(work, "docs.tsv");
  writeFileSync(
    docsFile,
    corpus.docs.map((d) => `${oneLine(d.docId)}\t${oneLine(`${d.title} ${d.text}`)}\n`).join(""),
  );
  const queriesFile = join(work, "queries.txt");
  writeFileSync(queriesFile, [...corpus.warmup, ...corpus.timed].map((q) => `${oneLine(q)}\n`).join(""));
  const indexDir = join(work, "lucene-index");
  rmSync(indexDir, { recursive: true, force: true });
  const r = spawnSync(
    "java",
    [
      "-Xmx3g",
      "-cp",
      `${classes}:${cp}`,
      "LuceneBench",
      docsFile,
      queriesFile,
      indexDir,
      String(corpus.warmup.length),
      String(K),
      String(WARMUP_PASSES),
    ],
    { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "inherit"] },
  );
  if (r.status !== 0) throw new Error(`the Lucene harness exited ${r.status}`);
  const out = JSON.parse(r.stdout);
  rmSync(indexDir, { recursive: true, force: true });
  const total = out.query_seconds;
  return {
    version: out.lucene_version,
    build_seconds: out.build_seconds,
    index_bytes: out.index_bytes,
    query_documents: {
      ...summarize(out.samples_ms),
      queries_per_second: Math.round(out.samples_ms.length / total),
    },
    tops: out.top,
  };
}

/** Why bm25s cannot run here, or null when it can. */
function bm25sMissing() {
  const r = spawnSync("python3", ["-c", "import bm25s, Stemmer"], { encoding: "utf8" });
  if (r.error !== undefined) return `python3 is not installed (${r.error.code})`;
  if (r.status !== 0)
    return `python3 -c 'import bm25s, Stemmer' failed (${r.stderr.trim().split("\n").pop()}); the package index is not reachable from this machine`;
  return null;
}

function bm25s(corpus, work) {
  const docsFile = join(work, "docs.tsv");
  const queriesFile = join(work, "queries.txt");
  if (!existsSync(docsFile)) {
    writeFileSync(
      docsFile,
      corpus.docs.map((d) => `${oneLine(d.docId)}\t${oneLine(`${d.title} ${d.text}`)}\n`).join(""),
    );
    writeFileSync(queriesFile, [...corpus.warmup, ...corpus.timed].map((q) => `${oneLine(q)}\n`).join(""));
  }
  const r = spawnSync(
    "python3",
    [
      join(REPO, "bench", "peers", "bm25s_bench.py"),
      docsFile,
      queriesFile,
      String(corpus.warmup.length),
      String(K),
      String(WARMUP_PASSES),
    ],
    { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "inherit"] },
  );
  if (r.status !== 0) throw new Error(`the bm25s harness exited ${r.status}`);
  const out = JSON.parse(r.stdout);
  return {
    version: out.version,
    build_seconds: out.build_seconds,
    index_bytes: out.index_bytes,
    query_documents: {
      ...summarize(out.samples_ms),
      queries_per_second: Math.round(out.samples_ms.length / out.query_seconds),
    },
    tops: out.top,
  };
}

/** Mean nDCG@10 over the timed SciFact claims that have train judgments. */
function meanNdcg(corpus, tops) {
  let sum = 0;
  let n = 0;
  corpus.ids.forEach((id, i) => {
    const j = corpus.qrels[id];
    if (j === undefined) return;
    sum += ndcgAt(tops[i], j, 10);
    n++;
  });
  return { ndcg_at_10: sum / n, queries: n };
}

async function compare(name, corpus) {
  const textBytes = corpus.docs.reduce(
    (n, d) => n + Buffer.byteLength(d.title ?? "", "utf8") + Buffer.byteLength(d.text, "utf8"),
    0,
  );
  const mb = textBytes / 1e6;
  console.error(`${name}: ${corpus.docs.length} passages, ${mb.toFixed(1)} MB of title + text`);
  const work = mkdtempSync(join(tmpdir(), "canon-peers-"));
  const result = {
    passages: corpus.docs.length,
    title_and_text_mb: mb,
    queries: corpus.timed.length,
    warmup: corpus.warmup.length,
  };
  try {
    const own = ours(corpus);
    console.error(
      `  canon-reason: ${own.query_chunks.queries_per_second} q/s chunks, ${own.query_documents.queries_per_second} q/s documents`,
    );
    result.canon_reason = { ...own, build_mb_per_s: mb / own.build_seconds };
    const peers = {};
    const skipped = {};
    const lm = luceneMissing();
    if (lm === null) {
      peers.lucene = lucene(corpus, work);
      console.error(`  lucene: ${peers.lucene.query_documents.queries_per_second} q/s`);
    } else skipped.lucene = lm;
    const bm = bm25sMissing();
    if (bm === null) peers.bm25s = bm25s(corpus, work);
    else skipped.bm25s = bm;
    for (const [peer, why] of Object.entries(skipped)) console.error(`  ${peer} skipped: ${why}`);
    for (const p of Object.values(peers)) {
      p.build_mb_per_s = mb / p.build_seconds;
      p.ratios = {
        query_chunks_qps_ours_over_peer:
          own.query_chunks.queries_per_second / p.query_documents.queries_per_second,
        query_documents_qps_ours_over_peer:
          own.query_documents.queries_per_second / p.query_documents.queries_per_second,
        index_bytes_ours_over_peer: own.index_bytes / p.index_bytes,
        index_bytes_format_3_ours_over_peer: own.index_bytes_format_3 / p.index_bytes,
        query_documents_p50_peer_over_ours: p.query_documents.p50_ms / own.query_documents.p50_ms,
        build_mb_per_s_ours_over_peer: result.canon_reason.build_mb_per_s / p.build_mb_per_s,
      };
    }
    if (corpus.qrels !== undefined) {
      result.canon_reason.quality = meanNdcg(corpus, own.tops);
      for (const p of Object.values(peers)) p.quality = meanNdcg(corpus, p.tops);
    }
    // Top-10 overlap with each peer, documents (a check that the engines answer the same question).
    for (const p of Object.values(peers)) {
      let same = 0;
      let all = 0;
      own.tops.forEach((top, i) => {
        const theirs = new Set(p.tops[i]);
        for (const d of top) if (theirs.has(d)) same++;
        all += top.length;
      });
      p.top10_overlap_with_ours = same / all;
    }
    for (const p of [result.canon_reason, ...Object.values(peers)]) delete p.tops;
    result.peers = peers;
    result.skipped = skipped;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return result;
}

const limit = passagesFlag(process.argv);
const loadBefore = loadavg();
const scifact = await compare("scifact", loadScifact());
const wikipedia = await compare("wikipedia", await loadWikipedia(limit ?? WIKIPEDIA_PASSAGES));
const result = {
  benchmark: "retrieval-peers",
  machine: machine(),
  params: PARAMS,
  k: K,
  seed: SEED,
  notes: [
    `every engine: title + text of each passage, English stop words and stemming, BM25 k1 1.2 b 0.75, one query thread, the warm-up queries ${WARMUP_PASSES} times first`,
    "Lucene indexes whole passages and returns documents; canon-reason indexes 800-character chunks (200 overlap): query_chunks is its top-10 chunks, query_documents its top-10 documents (each by its best chunk)",
    "Lucene: EnglishAnalyzer, one indexing thread with SerialMergeScheduler, forceMerge(1) counted in the build, search(query, 10) timed with query analysis, stored ids read outside the timer; one query thread (the JVM's GC threads run as they do)",
    "canon-reason: the query is timed to its ranking (chunk numbers), as Lucene's is to TopDocs",
    "build MB/s is on UTF-8 title + text for every engine, corpus reading excluded",
    "SciFact quality: mean nDCG@10 on the train judgments (809 claims); the test judgments are not in the shared dataset",
    "measured on a 2-core machine shared with other jobs (load average below): compare figures within one run",
  ],
  load_average: { before: loadBefore, after: loadavg() },
  scifact,
  wikipedia,
};
console.log(JSON.stringify(result, null, 2));
if (limit === null) console.error(`wrote ${writeResult("peers", result)}`);
