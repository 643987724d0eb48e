// Converts two classic IR test collections into the BEIR layout `eval --beir` reads, gzip-compressed:
//
//   node scripts/convert-classic-collections.mjs cranfield DIR OUT   # DIR holds cran.all.1400, cran.qry, cranqrel
//   node scripts/convert-classic-collections.mjs cisi DIR OUT        # DIR holds CISI.ALL, CISI.QRY, CISI.REL
//
// writes OUT/{corpus.jsonl.gz, queries.jsonl, qrels/test.tsv}. OUT is a dataset folder outside this
// repository: $CANON_REASON_DATASETS/<name> or ../shared/datasets/<name> (fetched data is never
// committed here; docs/datasets.md gives the source files' origin and the outputs' sha256, which
// bench/lib.mjs checks). Records are SMART-format
// (`.I id`, then `.T` title, `.A` authors, `.B` source, `.W` text, `.X` cross-references); a field's
// lines are joined with single spaces (the files hard-wrap prose at ~70 columns). Documents get
// `_id` = the `.I` number, `title` = `.T`, `text` = `.W`. Deterministic: gzip without a timestamp.
//
// Cranfield: queries are numbered 1..225 in file order, as cranqrel numbers them (the `.I` numbers in
// cran.qry skip values, a known quirk). Grades: cranqrel's 1 (complete answer) .. 4 (minimal interest)
// become 4 .. 1; -1 and 5 (no interest) become 0. CISI: every CISI.REL pair is relevant (grade 1).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [name, dir, outArg] = process.argv.slice(2);
if ((name !== "cranfield" && name !== "cisi") || dir === undefined || outArg === undefined) {
  console.error("usage: node scripts/convert-classic-collections.mjs cranfield|cisi DIR OUT");
  process.exit(2);
}

/** SMART records: [{ I, T, A, B, W, X }], each field's lines joined by single spaces. */
function smart(file) {
  const records = [];
  let rec = null;
  let field = null;
  for (const raw of readFileSync(join(dir, file), "latin1").split(/\r?\n/)) {
    const m = /^\.([A-Z])(?:\s+(.*))?$/.exec(raw);
    if (m !== null && m[1] === "I") {
      rec = { I: m[2].trim() };
      records.push(rec);
      field = null;
    } else if (m !== null) {
      field = m[1];
      rec[field] = rec[field] ?? "";
      if (m[2] !== undefined && m[2].trim() !== "") rec[field] += ` ${m[2].trim()}`;
    } else if (field !== null) rec[field] += ` ${raw.trim()}`;
  }
  for (const r of records) for (const k of Object.keys(r)) r[k] = r[k].replace(/\s+/g, " ").trim();
  return records;
}

const out = resolve(outArg);
if (out === REPO || out.startsWith(REPO + sep)) {
  console.error(`OUT must be outside the repository (${REPO}): fetched data is never committed`);
  process.exit(2);
}
mkdirSync(join(out, "qrels"), { recursive: true });
const docs = smart(name === "cranfield" ? "cran.all.1400" : "CISI.ALL");
const queries = smart(name === "cranfield" ? "cran.qry" : "CISI.QRY");
const qrels = [];
if (name === "cranfield") {
  queries.forEach((q, i) => {
    q.I = String(i + 1);
  });
  const grade = { 1: 4, 2: 3, 3: 2, 4: 1 };
  for (const line of readFileSync(join(dir, "cranqrel"), "latin1").split(/\r?\n/)) {
    const [q, d, r] = line.trim().split(/\s+/);
    if (q === undefined || q === "") continue;
    qrels.push([q, d, grade[r] ?? 0]);
  }
} else {
  for (const line of readFileSync(join(dir, "CISI.REL"), "latin1").split(/\r?\n/)) {
    const [q, d] = line.trim().split(/\s+/);
    if (q === undefined || q === "") continue;
    qrels.push([q, d, 1]);
  }
}
const corpus = docs.map((d) => JSON.stringify({ _id: d.I, title: d.T ?? "", text: d.W ?? "" })).join("\n");
writeFileSync(join(out, "corpus.jsonl.gz"), gzipSync(Buffer.from(`${corpus}\n`), { level: 9 }));
writeFileSync(
  join(out, "queries.jsonl"),
  `${queries.map((q) => JSON.stringify({ _id: q.I, text: [q.T, q.W].filter(Boolean).join(" ") })).join("\n")}\n`,
);
writeFileSync(
  join(out, "qrels", "test.tsv"),
  `query-id\tcorpus-id\tscore\n${qrels.map((r) => r.join("\t")).join("\n")}\n`,
);
const judged = new Set(qrels.filter((r) => r[2] > 0).map((r) => r[0]));
console.log(
  JSON.stringify({
    name,
    documents: docs.length,
    queries: queries.length,
    judgments: qrels.length,
    relevant: qrels.filter((r) => r[2] > 0).length,
    judged_queries: judged.size,
  }),
);
