// Sentence-boundary accuracy against SciFact's annotated sentences (scifact-claims/corpus.jsonl
// gives every abstract as a list of sentences). Each abstract's sentences are joined with one
// space; a splitter is scored on the boundaries between them (precision, recall, F1) and on
// the share of annotated sentences it reproduces exactly. Compares the rule set used by the
// reasoner and the retrieve tool (src/core/text/sentences.ts), extractive 1's old rule, and
// ICU's Intl.Segmenter. Writes bench/results/sentence-boundaries.json. Needs `npm run build`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { machine, REPO, requireDataset, writeResult } from "./lib.mjs";

const { splitSentences } = await import(join(REPO, "dist", "core", "text", "sentences.js"));

/** Extractive 1's rule: a stop, `!` or `?` (with closers) before whitespace, or a line break. */
function oldRule(text) {
  const out = [];
  let from = 0;
  for (const m of text.matchAll(/[.!?]["'”’)\]]*(?=\s)|\n/gu)) {
    out.push(text.slice(from, m.index + m[0].length).trim());
    from = m.index + m[0].length;
  }
  out.push(text.slice(from).trim());
  return out.filter((s) => s !== "");
}

const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });
const splitters = {
  rules: (text) => splitSentences(text).map((s) => s.text),
  extractive_v1_rule: oldRule,
  intl_segmenter: (text) => [...segmenter.segment(text)].map((s) => s.segment.trim()).filter((s) => s !== ""),
};

/** Character offsets where each sentence but the last ends, located in order in the text. */
function boundaries(text, sentences) {
  const ends = [];
  let from = 0;
  for (const s of sentences) {
    const at = text.indexOf(s, from);
    if (at < 0) continue;
    from = at + s.length;
    ends.push(from);
  }
  ends.pop();
  return new Set(ends);
}

const file = join(requireDataset("scifact-claims"), "corpus.jsonl");
const docs = readFileSync(file, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) =>
    JSON.parse(l)
      .abstract.map((s) => s.trim())
      .filter((s) => s !== ""),
  );

const results = {};
for (const [name, split] of Object.entries(splitters)) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let exact = 0;
  let gold = 0;
  let docsExact = 0;
  const started = performance.now();
  const misses = [];
  for (const sentences of docs) {
    const text = sentences.join(" ");
    const want = boundaries(text, sentences);
    const predicted = split(text);
    const got = boundaries(text, predicted);
    let docOk = true;
    for (const b of got)
      if (want.has(b)) tp++;
      else {
        fp++;
        docOk = false;
        if (misses.length < 8)
          misses.push({ kind: "false_split", at: text.slice(Math.max(0, b - 40), b + 30) });
      }
    for (const b of want)
      if (!got.has(b)) {
        fn++;
        docOk = false;
      }
    const predictedSet = new Set(predicted);
    gold += sentences.length;
    exact += sentences.filter((s) => predictedSet.has(s)).length;
    if (docOk) docsExact++;
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  const r4 = (x) => Math.round(x * 10_000) / 10_000;
  results[name] = {
    boundary_precision: r4(precision),
    boundary_recall: r4(recall),
    boundary_f1: r4((2 * precision * recall) / (precision + recall)),
    sentences_exact: r4(exact / gold),
    abstracts_all_boundaries_right: r4(docsExact / docs.length),
    seconds: Math.round(performance.now() - started) / 1000,
    false_split_examples: misses,
  };
}
const out = { dataset: "scifact-claims/corpus.jsonl", abstracts: docs.length, machine: machine(), results };
writeResult("sentence-boundaries", out);
for (const [name, r] of Object.entries(results))
  console.log(
    `${name.padEnd(20)} P ${r.boundary_precision.toFixed(4)}  R ${r.boundary_recall.toFixed(4)}  F1 ${r.boundary_f1.toFixed(4)}  exact sentences ${r.sentences_exact.toFixed(4)}`,
  );
