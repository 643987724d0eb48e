// Where the time of the retrieval benchmark goes: V8 CPU profiles (the profiler behind
// `node --cpu-prof`, taken through node:inspector so each covers one phase only) of a
// single-thread index build and of the benchmark's top-10 queries, summarized as the functions
// with the most self time. Writes bench/results/retrieval-profile.txt.
//   node --max-old-space-size=16000 bench/retrieval-profile.mjs [passages]   (default 887,733)
import { createReadStream, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { buildIndex } from "../dist/core/retrieval/bm25/bm25-build.js";
import { REPO, requireDataset, seededRandom } from "./lib.mjs";

const PASSAGES = Number(process.argv[2] ?? 887_733);
const PARAMS = { k1: 1.2, b: 0.75, chunkChars: 800, overlapChars: 200, analyzer: "english", titles: true };
const SEED = 20261124; // bench/retrieval.mjs's queries
const QUERIES = 1100;

const docs = [];
const lines = createInterface({
  input: createReadStream(requireDataset("wikipedia-passages/passages.jsonl.gz")).pipe(createGunzip()),
  crlfDelay: Number.POSITIVE_INFINITY,
});
for await (const line of lines) {
  if (docs.length >= PASSAGES) break;
  const d = JSON.parse(line);
  docs.push({ docId: d.doc_id, title: d.title, text: d.text });
}
const random = seededRandom(SEED);
const queries = Array.from({ length: QUERIES }, () => {
  const d = docs[Math.floor(random() * docs.length)];
  const words = d.text.split(/\s+/).filter((w) => /^[A-Za-z]{4,}$/.test(w));
  const picked = Array.from({ length: 3 }, () => words[Math.floor(random() * words.length)] ?? "");
  return `${d.title} ${picked.join(" ")}`.trim();
});

const session = new Session();
session.connect();
await session.post("Profiler.enable");

/** Runs `work` under the CPU profiler; returns its top functions by self time, as text. */
async function profile(label, work) {
  await session.post("Profiler.start");
  const t = performance.now();
  await work();
  const wall = performance.now() - t;
  const { profile: p } = await session.post("Profiler.stop");
  const selfMs = new Map();
  const byNode = new Map(p.nodes.map((n) => [n.id, n]));
  let total = 0;
  p.samples.forEach((id, i) => {
    const frame = byNode.get(id).callFrame;
    const where =
      frame.url === "" ? "" : ` ${frame.url.split("/").slice(-3).join("/")}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName || "(anonymous)"}${where}`;
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    selfMs.set(key, (selfMs.get(key) ?? 0) + dt);
  });
  const top = [...selfMs].sort((a, b) => b[1] - a[1]).slice(0, 25);
  return [
    `## ${label}: ${wall.toFixed(0)} ms wall, ${total.toFixed(0)} ms sampled`,
    ...top.map(
      ([k, ms]) => `${((100 * ms) / total).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${k}`,
    ),
  ].join("\n");
}

let index;
const build = await profile(`single-thread build of ${docs.length} passages`, () => {
  index = buildIndex(docs, PARAMS);
});
for (const q of queries.slice(0, 100)) index.search(q, 10); // warm-up, as the benchmark does
const query = await profile(`1,000 top-10 queries (pruned) over ${index.stats.chunks} chunks`, () => {
  for (const q of queries.slice(100)) index.search(q, 10);
});
const file = join(REPO, "bench", "results", "retrieval-profile.txt");
writeFileSync(
  file,
  `# Retrieval profile (bench/retrieval-profile.mjs), Node ${process.version}, on a 2-core machine shared with other jobs\n# "dispatch" is node:inspector's own frame (the session that runs the profiler), not retrieval code.\n\n${build}\n\n${query}\n`,
);
console.error(`wrote ${file}`);
