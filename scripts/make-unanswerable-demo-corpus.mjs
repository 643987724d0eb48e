// Builds the unanswerable-demo-corpus suite: questions from another domain (SciFact's biomedical
// test claims) asked of demo/corpus (40 general-knowledge documents), which cannot answer them.
// The 300 test claims (scifact-test/test.tsv, in file order; their texts from scifact/queries.jsonl)
// are used thus: the first 100 as they are, the next 100 as one keyword (the claim's longest word),
// the last 100 as two keywords (its two longest words, in claim order): many real queries are one or
// two words.
//
// The suite is derived from data fetched from public repositories, so it is never committed: it is
// generated at run time (bench/fit-confidence.mjs calls makeUnanswerableDemoCorpus) into a folder
// outside the repository's tracked files. The datasets are looked for as bench/lib.mjs says
// ($CANON_REASON_DATASETS, then ../shared/datasets) and their sha256 checked (docs/datasets.md).
// Deterministic: same data, same bytes.
//
//   node scripts/make-unanswerable-demo-corpus.mjs [OUT_DIR]   # default .canon-reason/unanswerable-demo-corpus
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkedDataset, REPO } from "../bench/lib.mjs";

/** The claim's words of letters only, longest first (ties: earlier first), as [index, word]. */
function longest(text, n) {
  const words = text.split(/\s+/u).map((w) => w.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, ""));
  return words
    .map((w, i) => [i, w])
    .filter(([, w]) => /^\p{L}{4,}$/u.test(w))
    .sort((a, b) => b[1].length - a[1].length || a[0] - b[0])
    .slice(0, n)
    .sort((a, b) => a[0] - b[0])
    .map(([, w]) => w.toLowerCase());
}

/**
 * Writes OUT/suite.json (corpus: the repository's demo/corpus) and OUT/problems.jsonl. Returns
 * { dir, cases } or { reason } (one line) when scifact or scifact-test is absent or altered.
 */
export function makeUnanswerableDemoCorpus(out) {
  const scifact = checkedDataset("scifact");
  if (scifact.dir === undefined) return { reason: scifact.reason };
  const test = checkedDataset("scifact-test");
  if (test.dir === undefined) return { reason: test.reason };
  const queries = new Map(
    readFileSync(join(scifact.dir, "queries.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .map((q) => [q._id, q.text]),
  );
  const ids = [
    ...new Set(
      readFileSync(join(test.dir, "test.tsv"), "utf8")
        .split("\n")
        .slice(1)
        .filter(Boolean)
        .map((l) => l.split("\t")[0]),
    ),
  ];
  const lines = ids.map((id, i) => {
    const claim = queries.get(id);
    if (claim === undefined)
      throw new Error(`scifact-test/test.tsv: no query ${id} in scifact/queries.jsonl`);
    const description = i < 100 ? claim : longest(claim, i < 200 ? 1 : 2).join(" ");
    return JSON.stringify({
      case_id: `x${String(i + 1).padStart(3, "0")}`,
      description,
      expected: { answerable: false },
    });
  });
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "suite.json"),
    `${JSON.stringify({
      corpus: relative(dir, join(REPO, "demo", "corpus")),
      name: "unanswerable-demo-corpus",
      version: "1",
    })}\n`,
  );
  writeFileSync(join(dir, "problems.jsonl"), `${lines.join("\n")}\n`);
  return { dir, cases: lines.length };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const made = makeUnanswerableDemoCorpus(
    process.argv[2] ?? join(REPO, ".canon-reason", "unanswerable-demo-corpus"),
  );
  if (made.dir === undefined) {
    console.error(`unanswerable-demo-corpus not built: ${made.reason}`);
    process.exit(2);
  }
  console.log(`${made.cases} cases -> ${made.dir}`);
}
