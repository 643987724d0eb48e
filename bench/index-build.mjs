// Index build at Wikipedia scale (887,733 passages, 401 MB of text; MB/s are on that text):
// 1 thread against 2, run after run in turn, each build in a child process of its own, so its
// peak memory and CPU time are its own. Each child reads the passages first (not timed), then
// builds with buildIndexInThreads and hashes the serialized index: every build must give the
// same bytes. Reported per thread count: wall seconds (best and median), MB/s, CPU seconds of
// the build (user + system, every thread of the process), peak RSS and the RSS the passages
// alone hold. One more child builds in one thread from passages read one at a time and not
// kept (a decompressed copy of the corpus under the temporary folder), for the memory the
// build itself needs. The machine's load average goes with every figure: on a shared 2-core
// machine wall-clock scaling moves with the load, CPU seconds much less.
//   node bench/index-build.mjs [--rounds R]            R rounds (3) at 887,733 passages, bench/results/index-build.json
//   node bench/index-build.mjs --passages N             the first N passages, printed, not recorded
//   node bench/index-build.mjs --child N THREADS|stream (internal)
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  createReadStream,
  createWriteStream,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { buildIndex } from "../dist/core/retrieval/bm25/bm25-build.js";
import { serializeIndex } from "../dist/core/retrieval/bm25/bm25-format.js";
import { buildIndexInThreads } from "../dist/io/index-cache/index-build-pool.js";
import { machine, requireDataset, writeResult } from "./lib.mjs";

const ALL = 887_733;
const PARAMS = { k1: 1.2, b: 0.75, chunkChars: 800, overlapChars: 200, analyzer: "english", titles: true };
const CORPUS = "wikipedia-passages/passages.jsonl.gz";

const toDoc = (d) => ({ docId: d.doc_id, title: d.title, text: d.text });

async function loadPassages(limit) {
  const docs = [];
  const lines = createInterface({
    input: createReadStream(requireDataset(CORPUS)).pipe(createGunzip()),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (docs.length >= limit) break;
    docs.push(toDoc(JSON.parse(line)));
  }
  return docs;
}

/** The first `limit` passages, read from the decompressed corpus a block at a time and not kept. */
function* streamPassages(file, limit) {
  const fd = openSync(file, "r");
  const block = Buffer.alloc(1 << 20);
  // A block may end inside a character: the decoder keeps its first bytes for the next one.
  const utf8 = new StringDecoder("utf8");
  let rest = "";
  let n = 0;
  try {
    for (;;) {
      const got = readSync(fd, block, 0, block.length, null);
      if (got === 0) break;
      const lines = (rest + utf8.write(block.subarray(0, got))).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        if (n++ >= limit) return;
        yield toDoc(JSON.parse(line));
      }
    }
    if (rest !== "" && n < limit) yield toDoc(JSON.parse(rest));
  } finally {
    closeSync(fd);
  }
}

const cpuSeconds = (u) => (u.user + u.system) / 1e6;

/**
 * CPU seconds (user + system) of each thread of process `pid`, by thread id, from /proc (Linux;
 * empty elsewhere). A thread that has ended is not listed.
 */
function threadCpu(pid = "self") {
  const out = {};
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch (error) {
    if (error.code === "ENOENT") return out; // not Linux, or the process has ended
    throw error;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[tid] = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

async function child(passages, mode) {
  let docs = null;
  let textBytes = 0;
  let build;
  if (mode === "stream") {
    const file = process.env.CANON_BENCH_PLAIN_CORPUS;
    build = () => {
      const onProgress = (done) => {
        textBytes = done;
      };
      return buildIndex(streamPassages(file, passages), PARAMS, onProgress);
    };
  } else {
    docs = await loadPassages(passages);
    textBytes = docs.reduce((n, d) => n + Buffer.byteLength(d.text, "utf8"), 0);
    build = () => buildIndexInThreads(docs, PARAMS, Number(mode));
  }
  const rssLoaded = process.memoryUsage().rss;
  const threadsBefore = threadCpu();
  const cpu = process.cpuUsage();
  const t = performance.now();
  const index = await build();
  const seconds = (performance.now() - t) / 1000;
  const cpuBuild = cpuSeconds(process.cpuUsage(cpu));
  const threadsAfter = threadCpu();
  const sha256 = createHash("sha256").update(serializeIndex(index)).digest("hex");
  process.stdout.write(
    JSON.stringify({
      passages: index.stats.documents,
      chunks: index.stats.chunks,
      postings: index.stats.postings,
      text_mb: textBytes / 1e6,
      build_seconds: seconds,
      build_mb_per_s: textBytes / 1e6 / seconds,
      build_cpu_seconds: cpuBuild,
      rss_before_build_bytes: rssLoaded,
      // The peak of the whole child: passages, build and serialization.
      peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
      index_sha256: sha256,
      threads_before: threadsBefore,
      threads_after: threadsAfter,
    }),
  );
}

/**
 * Per-thread CPU seconds of one build: this thread (the main one), each worker thread (a thread
 * that started during the build; the parent's samples give its last figure) and V8's and
 * libuv's helper threads (garbage collection, mostly).
 */
function threadFigures(child, sampled, pid) {
  const before = child.threads_before;
  const after = child.threads_after;
  const main = (after[pid] ?? 0) - (before[pid] ?? 0);
  let helpers = 0;
  for (const [tid, cpu] of Object.entries(after))
    if (tid !== String(pid) && tid in before) helpers += cpu - before[tid];
  const workers = Object.entries(sampled)
    .filter(([tid]) => !(tid in before) && !(tid in after))
    .map(([, cpu]) => cpu)
    .filter((cpu) => cpu > 0.05)
    .sort((a, b) => b - a);
  return {
    main_thread_cpu_seconds: main,
    worker_threads_cpu_seconds: workers,
    helper_threads_cpu_seconds: helpers,
  };
}

function flags(argv) {
  const out = { passages: ALL, rounds: 3, recorded: true };
  for (let i = 2; i < argv.length; i += 2) {
    const n = /^[1-9][0-9]{0,6}$/.test(argv[i + 1] ?? "") ? Number(argv[i + 1]) : Number.NaN;
    if (argv[i] === "--passages" && n <= ALL) out.passages = n;
    else if (argv[i] === "--rounds" && n <= 20) {
      out.rounds = n;
      continue; // fewer or more rounds of the whole corpus are still recorded
    } else {
      console.error("usage: node bench/index-build.mjs [--passages N (1 to 887733)] [--rounds R (1 to 20)]");
      process.exit(2);
    }
    out.recorded = false;
  }
  return out;
}

/** Runs one build child, sampling its threads' CPU time every 50 ms (a worker's ends with it). */
function runChild(passages, mode, env = process.env) {
  const load = loadavg()[0];
  const child = spawn(
    process.execPath,
    [new URL(import.meta.url).pathname, "--child", String(passages), mode],
    { stdio: ["ignore", "pipe", "inherit"], env },
  );
  const sampled = {};
  const timer = setInterval(() => Object.assign(sampled, threadCpu(child.pid)), 50);
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (s) => {
    stdout += s;
  });
  return new Promise((resolve, reject) => {
    child.on("close", (status) => {
      clearInterval(timer);
      if (status !== 0) return reject(new Error(`build child (${mode}) failed with exit ${status}`));
      const r = JSON.parse(stdout);
      const threads = threadFigures(r, sampled, child.pid);
      delete r.threads_before;
      delete r.threads_after;
      resolve({ ...r, ...threads, load_average_1m_before: load, load_average_1m_after: loadavg()[0] });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function summarizeRuns(runs) {
  const pick = (k) => runs.map((r) => r[k]);
  return {
    runs: runs.length,
    build_seconds_best: Math.min(...pick("build_seconds")),
    build_seconds_median: median(pick("build_seconds")),
    build_mb_per_s_best: Math.max(...pick("build_mb_per_s")),
    build_mb_per_s_median: median(pick("build_mb_per_s")),
    build_cpu_seconds_median: median(pick("build_cpu_seconds")),
    main_thread_cpu_seconds_median: median(pick("main_thread_cpu_seconds")),
    busiest_worker_cpu_seconds_median: median(runs.map((r) => r.worker_threads_cpu_seconds[0] ?? 0)),
    helper_threads_cpu_seconds_median: median(pick("helper_threads_cpu_seconds")),
    peak_rss_bytes_median: median(pick("peak_rss_bytes")),
    rss_before_build_bytes_median: median(pick("rss_before_build_bytes")),
    load_average_1m: pick("load_average_1m_before"),
  };
}

if (process.argv[2] === "--child") {
  await child(Number(process.argv[3]), process.argv[4]);
} else {
  const { passages, rounds, recorded } = flags(process.argv);
  const loadBefore = loadavg();
  const runs = { 1: [], 2: [] };
  for (let round = 0; round < rounds; round++) {
    for (const threads of [1, 2]) {
      const r = await runChild(passages, String(threads));
      console.error(
        `round ${round + 1}, ${threads} thread(s): ${r.build_seconds.toFixed(2)} s, ${r.build_mb_per_s.toFixed(1)} MB/s, cpu ${r.build_cpu_seconds.toFixed(1)} s (main ${r.main_thread_cpu_seconds.toFixed(1)}, workers ${r.worker_threads_cpu_seconds.map((x) => x.toFixed(1)).join("/") || "-"}, helpers ${r.helper_threads_cpu_seconds.toFixed(1)}), peak ${(r.peak_rss_bytes / 1e6).toFixed(0)} MB, load ${r.load_average_1m_before}`,
      );
      runs[threads].push(r);
    }
  }
  const hashes = new Set([...runs[1], ...runs[2]].map((r) => r.index_sha256));
  if (hashes.size !== 1) throw new Error("builds with 1 and 2 threads gave different index bytes");
  // The streaming build reads a decompressed copy: a gzip stream cannot be read synchronously.
  // It is written as a stream: a child starts with its parent's peak RSS as its own (Linux
  // keeps the larger across exec), so this process must never hold the corpus.
  const plain = join(tmpdir(), `canon-bench-passages-${process.pid}.jsonl`);
  await pipeline(createReadStream(requireDataset(CORPUS)), createGunzip(), createWriteStream(plain));
  const streamed = await runChild(passages, "stream", { ...process.env, CANON_BENCH_PLAIN_CORPUS: plain });
  rmSync(plain, { force: true });
  if (streamed.index_sha256 !== runs[1][0].index_sha256)
    throw new Error("the streaming build gave different index bytes");
  const one = summarizeRuns(runs[1]);
  const two = summarizeRuns(runs[2]);
  // Paired: each round's 1-thread wall time over its 2-thread one, then the median.
  const speedups = runs[1].map((r, i) => r.build_seconds / runs[2][i].build_seconds);
  const result = {
    benchmark: "index-build",
    machine: machine(),
    corpus: `${CORPUS} (first ${passages} passages)`,
    params: PARAMS,
    passages,
    chunks: runs[1][0].chunks,
    postings: runs[1][0].postings,
    text_mb: runs[1][0].text_mb,
    index_sha256: runs[1][0].index_sha256,
    load_note:
      "measured on a 2-core machine shared with other jobs (load average below): wall-clock figures, and the 2-thread speed-up most of all, are lower and noisier than on an idle machine; CPU seconds move less",
    load_average: { before: loadBefore, after: loadavg() },
    threads_1: one,
    threads_2: two,
    speedup_2_threads_paired_median: median(speedups),
    speedup_2_threads_best: one.build_seconds_best / two.build_seconds_best,
    cpu_ratio_2_over_1: two.build_cpu_seconds_median / one.build_cpu_seconds_median,
    // With a core per thread, a build lasts about as long as its busiest thread runs, plus the
    // helper threads' (garbage collection) share of the cores: on 2 cores, 1 thread leaves the
    // helpers a core of their own, 2 threads share both with them. An estimate, not a measurement.
    speedup_2_threads_idle_estimate:
      one.main_thread_cpu_seconds_median /
      (Math.max(two.main_thread_cpu_seconds_median, two.busiest_worker_cpu_seconds_median) +
        two.helper_threads_cpu_seconds_median / 2),
    streamed_1_thread: {
      note: "passages read one at a time and not kept: the build's own memory",
      build_seconds: streamed.build_seconds,
      peak_rss_bytes: streamed.peak_rss_bytes,
      load_average_1m: streamed.load_average_1m_before,
    },
    runs,
  };
  console.log(JSON.stringify(result, null, 2));
  if (recorded) console.error(`wrote ${writeResult("index-build", result)}`);
}
