// Fits, and reports out of sample, extractive 4's confidence model (src/core/reason/extractive-v4.ts)
// and extractive 5's sentence picker (src/core/reason/extractive.ts).
//
//   node bench/fit-confidence.mjs fit      # fit splits only: prints the coefficients to freeze
//   node bench/fit-confidence.mjs picker   # SciFact fit split only: extractive 5's sentence picker
//   node bench/fit-confidence.mjs report   # held-out splits only, with the frozen coefficients
//   node bench/fit-confidence.mjs domains  # other domains (Cranfield, CISI): held-out halves
//
// Datasets (none is committed here; docs/datasets.md gives each one's origin, converter and sha256,
// checked before use): scifact/, scifact-claims/, scifact-test/, cranfield/, cisi/, looked for in
// $CANON_REASON_DATASETS, then ../shared/datasets. scifact and scifact-claims are needed by every
// mode; cranfield and cisi by `fit` (the frozen coefficients were fitted on them); in `report` and
// `domains` an absent optional dataset is skipped with a one-line reason, and the result, with a
// "skipped" list, goes to .canon-reason/fit-confidence/ instead of bench/results/. The unanswerable-demo-corpus suite is generated at run time from
// scifact-test (scripts/make-unanswerable-demo-corpus.mjs) into .canon-reason/fit-confidence/.
//
// Splits are fixed by a hash of each case's id (SPLIT_SALT), so they never move:
// - SciFact train claims (qrels/train.tsv, 809 judged): 70% "fit", 30% "heldout" (with rationales).
// - demo/unanswerable-scifact (110 general-knowledge questions): 50% fit, 50% heldout.
// - Cranfield and CISI (no training split of their own): 50% of each one's judged
//   queries fit, 50% heldout, by a hash of "<name>/<query id>".
// - Never fitted on: SciFact test (300 claims, scifact-test/test.tsv) and
//   unanswerable-demo-corpus (SciFact test claims and keyword queries asked of demo/corpus).
//
// `fit` runs `eval --min-confidence 0` on the fit splits (only for the evidence each case's run
// records: which reasoner made the run does not matter), rebuilds every case's reasoner input from
// its recorded trace (as verify's rederive does), and scores the CANDIDATES strongest sentences
// with the built reasoner's own features. Each candidate is labelled 1 when its document is judged
// relevant (0 for every candidate of an unanswerable question, weighed UNANSWERABLE_WEIGHT), and an
// L2-regularised logistic regression is fitted by Newton's method on standardised features. The
// probabilities are then Platt-scaled: a one-feature logistic regression of "the chosen (most
// probable) candidate's document is relevant" on that candidate's out-of-fold score (two folds by
// a hash of the case), folded into the coefficients. The default min_confidence is read off the
// out-of-fold operating points (THRESHOLD_RULE), never off a held-out split. Deterministic: same
// data, same coefficients. Results: bench/results/fit-confidence.json.
// `report` runs the held-out sets twice (default min_confidence, and 0 for calibration) and
// writes bench/results/confidence-heldout.json.
// `picker` reads the SciFact fit split only: for each claim, extractive 4 chooses the document;
// every candidate sentence of that document (when it has annotated rationale sentences) gets
// extractive 5's picker features and the label "overlaps a rationale sentence". It reports the
// share of claims whose picked sentence is a rationale, by PICKER_FOLDS-fold cross-validation
// (folds by a hash of the claim), against extractive 4's strongest sentence, fits the picker on
// all of them and writes bench/results/fit-picker.json. Needs `npm run build` first.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
// The features, the AUROC and the recorded input are the ones the reasoner, `eval` and `verify` use (`npm run build`).
import { auroc } from "../dist/core/eval/metrics.js";
import { PICKER_FEATURES, pickerScores } from "../dist/core/reason/extractive.js";
import { analyze } from "../dist/core/reason/extractive-v3.js";
import { DEFAULT_MIN_CONFIDENCE, FEATURES, scoreCandidates } from "../dist/core/reason/extractive-v4.js";
import { recordedReasonerInput } from "../dist/core/verify/checks/rederive.js";
import { withRationales } from "../dist/io/eval/eval-input.js";
import { openRun } from "../dist/io/runs/run-reader.js";
import { makeUnanswerableDemoCorpus } from "../scripts/make-unanswerable-demo-corpus.mjs";
import { CLI, checkedDataset, optionalDataset, REPO, requireDataset, writeResult } from "./lib.mjs";

const SPLIT_SALT = "canon-reason/fit-confidence/1:";
/**
 * Features the fit leaves at 0: no training case is one or two terms long (keyword queries are
 * capped instead); SciFact titles never reach the reasoner as evidence titles (always 0 here).
 */
const UNFITTED = new Set(["one_term", "two_terms", "title_coverage"]);
const L2 = 1;
/**
 * Weight of each candidate of an unanswerable question: 56 such questions face 700 answerable
 * ones in the fit split, too few to teach the model what a question the corpus cannot answer
 * looks like at weight 1. Chosen by two-fold cross-validation inside the fit split (1, 3, 6, 12).
 */
const UNANSWERABLE_WEIGHT = 12;
/**
 * The default min_confidence: the highest threshold (in steps of 0.01) at which, out of fold,
 * at least this share of the SciFact fit claims is answered (the goal is at most 10%
 * declined; 2 points of margin).
 */
const THRESHOLD_RULE = 0.92;
/** The sentence picker's cross-validation folds and its L2 penalty (standardised features). */
const PICKER_FOLDS = 5;
const PICKER_L2 = 1;

const share = (id) =>
  Number.parseInt(
    createHash("sha256")
      .update(SPLIT_SALT + id)
      .digest("hex")
      .slice(0, 8),
    16,
  ) /
  2 ** 32;
const inFit = (id, fraction) => share(String(id)) < fraction;

const mode = process.argv[2];
if (!["fit", "picker", "report", "domains"].includes(mode)) {
  console.error("usage: node bench/fit-confidence.mjs fit|picker|report|domains");
  process.exit(2);
}
const WORK = join(REPO, ".canon-reason", "fit-confidence");
const scifact = requireDataset("scifact");
const claims = requireDataset("scifact-claims");

/** A BEIR folder whose split `name` holds only the chosen qrels lines. */
function beirSplit(name, qrelsFile, keep) {
  const dir = join(WORK, "beir", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "qrels"), { recursive: true });
  symlinkSync(join(scifact, "corpus.jsonl"), join(dir, "corpus.jsonl"));
  symlinkSync(join(scifact, "queries.jsonl"), join(dir, "queries.jsonl"));
  const lines = readFileSync(qrelsFile, "utf8").split("\n").filter(Boolean);
  const kept = [lines[0], ...lines.slice(1).filter((l) => keep(l.split("\t")[0]))];
  writeFileSync(join(dir, "qrels", `${name}.tsv`), `${kept.join("\n")}\n`);
  // Rationales for the same claims, under the split's name.
  const rat = join(WORK, "rationales", name);
  rmSync(rat, { recursive: true, force: true });
  mkdirSync(rat, { recursive: true });
  symlinkSync(join(claims, "corpus.jsonl"), join(rat, "corpus.jsonl"));
  const train = readFileSync(join(claims, "claims_train.jsonl"), "utf8").split("\n").filter(Boolean);
  writeFileSync(
    join(rat, `claims_${name}.jsonl`),
    `${train.filter((l) => keep(String(JSON.parse(l).id))).join("\n")}\n`,
  );
  return { dir, rat };
}

/** A suite folder with the chosen cases of another suite (same corpus). */
function suiteSplit(name, from, keep) {
  const dir = join(WORK, "suites", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const suite = JSON.parse(readFileSync(join(from, "suite.json"), "utf8"));
  suite.corpus = relative(dir, join(from, suite.corpus));
  suite.name = name;
  writeFileSync(join(dir, "suite.json"), JSON.stringify(suite));
  const lines = readFileSync(join(from, "problems.jsonl"), "utf8").split("\n").filter(Boolean);
  writeFileSync(
    join(dir, "problems.jsonl"),
    `${lines.filter((l) => keep(JSON.parse(l).case_id)).join("\n")}\n`,
  );
  return dir;
}

/** A BEIR folder of dataset folder `src` (unpacked), whose split `split` holds only the chosen queries' qrels. */
function domainSplit(name, src, split, keep) {
  const dir = join(WORK, "beir", `${name}-${split}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "qrels"), { recursive: true });
  writeFileSync(join(dir, "corpus.jsonl"), gunzipSync(readFileSync(join(src, "corpus.jsonl.gz"))));
  copyFileSync(join(src, "queries.jsonl"), join(dir, "queries.jsonl"));
  const lines = readFileSync(join(src, "qrels", "test.tsv"), "utf8")
    .split("\n")
    .filter(Boolean);
  const kept = [lines[0], ...lines.slice(1).filter((l) => keep(l.split("\t")[0]))];
  writeFileSync(join(dir, "qrels", `${split}.tsv`), `${kept.join("\n")}\n`);
  return dir;
}

/** Half of each other domain's judged queries are fitted on, by a hash of "<name>/<query id>". */
const DOMAINS = ["cranfield", "cisi"];
const domainFit = (name) => (id) => inFit(`${name}/${id}`, 0.5);

function evalRun(name, args, minConfidence) {
  const out = join(WORK, "out", `${name}${minConfidence === undefined ? "" : "-mc0"}`);
  execFileSync(
    process.execPath,
    [
      CLI,
      "eval",
      ...args,
      "--workers",
      "2",
      "--json",
      "--out",
      out,
      "--artifacts-dir",
      join(WORK, "artifacts"),
      ...(minConfidence === undefined ? [] : ["--min-confidence", String(minConfidence)]),
    ],
    { stdio: ["ignore", "ignore", "inherit"], maxBuffer: 1 << 28 },
  );
  const cases = readFileSync(join(out, "cases.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
  return { cases, summary };
}

/**
 * Every case of an eval run, its reasoner input rebuilt from the recorded trace, its scored
 * candidates' feature vectors and labels (1: the candidate's document is judged relevant).
 */
function candidateRows(set, cases, qrelsFile) {
  const relevant = new Map();
  if (qrelsFile !== null)
    for (const line of readFileSync(qrelsFile, "utf8").split("\n").slice(1)) {
      const [q, d, g] = line.split("\t");
      if (d === undefined || !(Number(g) > 0)) continue;
      if (!relevant.has(q)) relevant.set(q, new Set());
      relevant.get(q).add(d);
    }
  return cases.map((c) => {
    const input = recordedReasonerInput(openRun(join(WORK, "artifacts", "runs", c.run_id)).view);
    if (typeof input === "string") throw new Error(`${set} ${c.case_id}: ${input}`);
    const judged = relevant.get(c.case_id) ?? new Set();
    const candidates = scoreCandidates(input)
      .sort((a, b) => a.position - b.position)
      .map((s) => ({ x: FEATURES.map((f) => s.features[f]), y: judged.has(s.candidate.docId) ? 1 : 0 }));
    return { set, id: c.case_id, answerable: c.answerable, candidates };
  });
}

/**
 * L2-regularised logistic regression, Newton's method, standardised features (optionally
 * weighted rows); raw-scale coefficients back, unrounded.
 */
function fitLogistic(X0, y, { l2 = L2, weights = null, skip = new Set() } = {}) {
  const active = X0[0].map((_, j) => j).filter((j) => !skip.has(j));
  const d = active.length;
  const n = X0.length;
  const mu = active.map((j) => X0.reduce((s, r) => s + r[j], 0) / n);
  const sd = active.map((j, k) => Math.sqrt(X0.reduce((s, r) => s + (r[j] - mu[k]) ** 2, 0) / n) || 1);
  const X = X0.map((r) => [1, ...active.map((j, k) => (r[j] - mu[k]) / sd[k])]);
  let w = new Array(d + 1).fill(0);
  for (let iter = 0; iter < 50; iter++) {
    const g = new Array(d + 1).fill(0);
    const H = Array.from({ length: d + 1 }, () => new Array(d + 1).fill(0));
    for (let i = 0; i < n; i++) {
      const wi = weights === null ? 1 : weights[i];
      const z = X[i].reduce((s, v, k) => s + v * w[k], 0);
      const p = 1 / (1 + Math.exp(-z));
      for (let a = 0; a <= d; a++) {
        g[a] += wi * (p - y[i]) * X[i][a];
        for (let b = 0; b <= d; b++) H[a][b] += wi * p * (1 - p) * X[i][a] * X[i][b];
      }
    }
    for (let a = 1; a <= d; a++) {
      g[a] += l2 * w[a];
      H[a][a] += l2;
    }
    const step = solve(H, g);
    w = w.map((v, k) => v - step[k]);
    if (Math.max(...step.map(Math.abs)) < 1e-10) break;
  }
  const coef = new Array(X0[0].length).fill(0);
  let intercept = w[0];
  active.forEach((j, k) => {
    coef[j] = w[k + 1] / sd[k];
    intercept -= (w[k + 1] * mu[k]) / sd[k];
  });
  return { intercept, coef };
}

const linear = (m, x) => m.coef.reduce((s, c, j) => s + c * x[j], m.intercept);
const sigmoid = (z) => 1 / (1 + Math.exp(-z));

/** Fits the candidate model on the given cases' candidate rows. */
function fitCandidates(cases) {
  const rowsOf = cases.flatMap((c) =>
    c.candidates.map((r) => ({ ...r, w: c.answerable ? 1 : UNANSWERABLE_WEIGHT })),
  );
  const skip = new Set(FEATURES.map((f, j) => (UNFITTED.has(f) ? j : -1)).filter((j) => j >= 0));
  return fitLogistic(
    rowsOf.map((r) => r.x),
    rowsOf.map((r) => r.y),
    { weights: rowsOf.map((r) => r.w), skip },
  );
}

/** The most probable candidate under a model (on a tie, the stronger), or null without candidates. */
function chosen(model, c) {
  let best = null;
  for (const r of c.candidates) {
    const z = linear(model, r.x);
    if (best === null || z > best.z) best = { z, y: r.y };
  }
  return best;
}

function solve(A, b) {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / M[i][i]);
}

const r4 = (v) => (v === null || v === undefined ? null : Math.round(v * 10000) / 10000);
const metric = (s, k) => r4(s.metrics[k]?.mean);

/** AUROC of confidence between answerable and unanswerable cases, pooled across evals. */
function pooledAuroc(answerable, unanswerable) {
  return r4(
    auroc([
      ...answerable.map((confidence) => ({ answerable: true, confidence })),
      ...unanswerable.map((confidence) => ({ answerable: false, confidence })),
    ]),
  );
}

const trainQrels = join(scifact, "qrels", "train.tsv");
const unanswerable = join(REPO, "demo", "unanswerable-scifact");

/**
 * Writes a mode's result. A run that skipped a set is not the published one: it goes to
 * .canon-reason/fit-confidence/<name>.json with its "skipped" reasons, leaving bench/results/ as is.
 */
function writeReport(name, report) {
  if (Object.keys(skipped).length === 0) return writeResult(name, report);
  const file = join(WORK, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ ...report, skipped }, null, 2)}\n`);
  console.error(`some sets were skipped: wrote ${file}, bench/results/${name}.json left as it was`);
  return file;
}

/** One-line reasons for the optional sets a mode skipped (absent or altered datasets). */
const skipped = {};
/** An optional dataset's folder, or null after recording (and printing) why its sets are skipped. */
function optional(name) {
  const dir = optionalDataset(name);
  if (dir === null) skipped[name] = checkedDataset(name).reason;
  return dir;
}

if (mode === "picker") fitPicker();
else if (mode === "fit") {
  // The frozen coefficients were fitted on Cranfield and CISI too: without them the fit is another one.
  const domainDirs = Object.fromEntries(DOMAINS.map((name) => [name, requireDataset(name)]));
  const fitClaims = beirSplit("fit", trainQrels, (id) => inFit(id, 0.7));
  const fitUnans = suiteSplit("unanswerable-scifact-fit", unanswerable, (id) => inFit(id, 0.5));
  const sets = [
    candidateRows(
      "scifact-fit",
      evalRun("scifact-fit", ["--beir", fitClaims.dir, "--split", "fit"], 0).cases,
      join(fitClaims.dir, "qrels", "fit.tsv"),
    ),
    candidateRows(
      "unanswerable-scifact-fit",
      evalRun("unanswerable-scifact-fit", ["--suite", fitUnans], 0).cases,
      null,
    ),
    ...DOMAINS.map((name) => {
      const dir = domainSplit(name, domainDirs[name], "fit", domainFit(name));
      const run = evalRun(`${name}-fit`, ["--beir", dir, "--split", "fit"], 0);
      return candidateRows(`${name}-fit`, run.cases, join(dir, "qrels", "fit.tsv"));
    }),
  ];
  const data = sets.flat();
  // Out-of-fold scores of each case's chosen candidate (two folds by a hash of the case).
  const fold = (c) => (inFit(`cv/${c.set}/${c.id}`, 0.5) ? 0 : 1);
  const oof = new Map();
  for (const k of [0, 1]) {
    const model = fitCandidates(data.filter((c) => fold(c) !== k));
    for (const c of data.filter((c) => fold(c) === k)) oof.set(c, chosen(model, c));
  }
  const scored = data.filter((c) => oof.get(c) !== null);
  // Platt scaling on the out-of-fold scores, every case weighing 1.
  const platt = fitLogistic(
    scored.map((c) => [oof.get(c).z]),
    scored.map((c) => oof.get(c).y),
    { l2: 0 },
  );
  const [a] = platt.coef;
  const raw = fitCandidates(data);
  const model = {
    intercept: r4(a * raw.intercept + platt.intercept),
    coefficients: Object.fromEntries(FEATURES.map((f, j) => [f, r4(a * raw.coef[j])])),
  };
  // Out-of-fold calibrated probability of each case (0 without a candidate), per set.
  const p = (c) => (oof.get(c) === null ? 0 : sigmoid(a * oof.get(c).z + platt.intercept));
  const correct = (c) => (oof.get(c) === null ? 0 : oof.get(c).y);
  const bySet = sets.map((cs) => [cs[0].set, cs]);
  const claims = data.filter((c) => c.set === "scifact-fit");
  const unans = data.filter((c) => !c.answerable);
  const pointAt = (t) => {
    const row = { min_confidence: t };
    for (const [name, cs] of bySet) {
      const answered = cs.filter((c) => p(c) >= t);
      if (cs[0].answerable) {
        row[`${name}_answered`] = r4(answered.length / cs.length);
        row[`${name}_first_citation_precision`] =
          answered.length === 0 ? null : r4(answered.filter(correct).length / answered.length);
      } else row[`${name}_declined`] = r4(1 - answered.length / cs.length);
    }
    return row;
  };
  const thresholds = Array.from({ length: 60 }, (_, i) => r4((i + 1) / 100));
  const chosenThreshold = Math.max(
    ...thresholds.filter((t) => claims.filter((c) => p(c) >= t).length / claims.length >= THRESHOLD_RULE),
  );
  // Out-of-fold calibration per set: mean probability against accuracy.
  const calibration = Object.fromEntries(
    bySet.map(([name, cs]) => [
      name,
      {
        cases: cs.length,
        mean_probability: r4(cs.reduce((s, c) => s + p(c), 0) / cs.length),
        accuracy: r4(cs.filter(correct).length / cs.length),
        brier: r4(cs.reduce((s, c) => s + (p(c) - correct(c)) ** 2, 0) / cs.length),
      },
    ]),
  );
  const result = {
    splits: {
      salt: SPLIT_SALT,
      scifact_train_fit_share: 0.7,
      unanswerable_fit_share: 0.5,
      cranfield_and_cisi_fit_share: 0.5,
    },
    cases_by_set: Object.fromEntries(sets.map((cs) => [cs[0].set, cs.length])),
    candidate_rows: data.reduce((s, c) => s + c.candidates.length, 0),
    positive_rows: data.reduce((s, c) => s + c.candidates.filter((r) => r.y === 1).length, 0),
    l2: L2,
    unanswerable_weight: UNANSWERABLE_WEIGHT,
    platt: { a: r4(a), b: r4(platt.intercept) },
    model,
    out_of_fold: {
      calibration,
      confidence_auroc_claims_vs_unanswerable: r4(
        auroc([
          ...claims.map((c) => ({ answerable: true, confidence: p(c) })),
          ...unans.map((c) => ({ answerable: false, confidence: p(c) })),
        ]),
      ),
      threshold_rule: `highest min_confidence answering at least ${THRESHOLD_RULE} of scifact-fit claims`,
      chosen_min_confidence: chosenThreshold,
      operating_points: [0.1, 0.15, chosenThreshold, 0.25, 0.3, 0.35, 0.4, 0.5]
        .filter((t, i, all) => all.indexOf(t) === i)
        .sort((x, y) => x - y)
        .map(pointAt),
    },
  };
  writeResult("fit-confidence", result);
  console.log(JSON.stringify(result, null, 2));
} else if (mode === "domains") {
  // Questions from other domains, which these corpora cannot answer: the held-out half of the
  // general-knowledge questions of demo/unanswerable-scifact (the other half was fitted on, over
  // SciFact) and the 200 one- and two-keyword biomedical queries of the generated
  // unanswerable-demo-corpus suite (x101-x300). Without scifact-test (which that suite is made
  // from) the unanswerable-<domain> sets are skipped: fewer questions would be other figures.
  const demoUnans = makeUnanswerableDemoCorpus(join(WORK, "suites", "unanswerable-demo-corpus"));
  if (demoUnans.dir === undefined) {
    console.error(`skipped: unanswerable-cranfield and unanswerable-cisi: ${demoUnans.reason}`);
    skipped["unanswerable-demo-corpus"] = demoUnans.reason;
  }
  const foreign =
    demoUnans.dir === undefined
      ? null
      : [
          ...readFileSync(join(unanswerable, "problems.jsonl"), "utf8")
            .split("\n")
            .filter(Boolean)
            .filter((l) => !inFit(JSON.parse(l).case_id, 0.5)),
          ...readFileSync(join(demoUnans.dir, "problems.jsonl"), "utf8")
            .split("\n")
            .filter(Boolean)
            .filter((l) => Number(JSON.parse(l).case_id.slice(1)) > 100),
        ];
  const report = {};
  for (const name of DOMAINS) {
    const src = optional(name);
    if (src === null) continue;
    const dir = domainSplit(name, src, "heldout", (id) => !domainFit(name)(id));
    const suite = join(WORK, "suites", `unanswerable-${name}`);
    rmSync(suite, { recursive: true, force: true });
    mkdirSync(suite, { recursive: true });
    writeFileSync(
      join(suite, "suite.json"),
      JSON.stringify({
        corpus: relative(suite, join(dir, "corpus.jsonl")),
        name: `unanswerable-${name}`,
        version: "1",
      }),
    );
    if (foreign !== null) writeFileSync(join(suite, "problems.jsonl"), `${foreign.join("\n")}\n`);
    const answerable = { answerable: [], unanswerable: [] };
    for (const [set, args] of [
      [`${name}-heldout`, ["--beir", dir, "--split", "heldout"]],
      ...(foreign === null ? [] : [[`unanswerable-${name}`, ["--suite", suite]]]),
    ]) {
      const d = evalRun(set, args);
      const z = evalRun(set, args, 0);
      const s = d.summary;
      report[set] = {
        cases: s.cases,
        default_threshold: {
          ndcg_at_10: metric(s, "ndcg_at_10"),
          ndcg_at_10_linear_gain: linearNdcg(d.cases, join(dir, "qrels", "heldout.tsv")),
          recall_at_100: metric(s, "recall_at_100"),
          citation_precision: metric(s, "citation_precision"),
          answerable_answered_rate: metric(s, "answerable_answered_rate"),
          unanswerable_insufficient_rate: metric(s, "unanswerable_insufficient_rate"),
          verification_pass_rate: metric(s, "verification_pass_rate"),
        },
        min_confidence_0: {
          judged_accuracy: metric(z.summary, "judged_accuracy"),
          calibration_ece: metric(z.summary, "calibration_ece"),
          risk_coverage_area: metric(z.summary, "risk_coverage_area"),
          operating_points: operatingPoints(z.cases),
        },
      };
      for (const c of z.cases)
        (c.answerable ? answerable.answerable : answerable.unanswerable).push(c.confidence);
    }
    if (foreign !== null)
      report[`${name}_auroc`] = pooledAuroc(answerable.answerable, answerable.unanswerable);
  }
  writeReport("confidence-domains", report);
  console.log(JSON.stringify(report, null, 2));
} else {
  const held = beirSplit("heldout", trainQrels, (id) => !inFit(id, 0.7));
  const scifactTest = optional("scifact-test");
  const test = scifactTest === null ? null : beirSplit("test", join(scifactTest, "test.tsv"), () => true);
  const heldUnans = suiteSplit("unanswerable-scifact-heldout", unanswerable, (id) => !inFit(id, 0.5));
  const demoUnans =
    scifactTest === null
      ? null
      : makeUnanswerableDemoCorpus(join(WORK, "suites", "unanswerable-demo-corpus"));
  if (demoUnans !== null && demoUnans.dir === undefined) {
    console.error(`skipped: unanswerable-demo-corpus: ${demoUnans.reason}`);
    skipped["unanswerable-demo-corpus"] = demoUnans.reason;
  }
  const sets = {
    "scifact-train-heldout": ["--beir", held.dir, "--split", "heldout", "--rationales", held.rat],
    ...(test === null ? {} : { "scifact-test": ["--beir", test.dir, "--split", "test"] }),
    "unanswerable-scifact-heldout": ["--suite", heldUnans],
    ...(demoUnans?.dir === undefined ? {} : { "unanswerable-demo-corpus": ["--suite", demoUnans.dir] }),
    demo: ["--suite", join(REPO, "demo", "suite")],
  };
  const report = {};
  const pooled = { answerable: [], unanswerable: [] };
  for (const [name, args] of Object.entries(sets)) {
    const d = evalRun(name, args);
    const z = evalRun(name, args, 0);
    const s = d.summary;
    report[name] = {
      cases: s.cases,
      default_threshold: {
        ndcg_at_10: metric(s, "ndcg_at_10"),
        citation_precision: metric(s, "citation_precision"),
        rationale_precision: metric(s, "rationale_precision"),
        insufficiency_rate: metric(s, "insufficiency_rate"),
        answerable_answered_rate: metric(s, "answerable_answered_rate"),
        unanswerable_insufficient_rate: metric(s, "unanswerable_insufficient_rate"),
        answer_hit_rate: metric(s, "answer_hit_rate"),
        verification_pass_rate: metric(s, "verification_pass_rate"),
      },
      min_confidence_0: {
        judged_accuracy: metric(z.summary, "judged_accuracy"),
        calibration_ece: metric(z.summary, "calibration_ece"),
        risk_coverage_area: metric(z.summary, "risk_coverage_area"),
        confidence_auroc: metric(z.summary, "confidence_auroc"),
        reliability: z.summary.calibration.reliability.map((b) => ({
          ...b,
          mean_confidence: r4(b.mean_confidence),
          accuracy: r4(b.accuracy),
        })),
        operating_points: operatingPoints(z.cases),
      },
    };
    if (name !== "demo")
      for (const c of z.cases) (c.answerable ? pooled.answerable : pooled.unanswerable).push(c.confidence);
  }
  // Calibration pooled over every held-out SciFact-corpus case (answerable and not).
  report.pooled_scifact_auroc = pooledAuroc(pooled.answerable, pooled.unanswerable);
  writeReport("confidence-heldout", report);
  console.log(JSON.stringify(report, null, 2));
}

/**
 * Extractive 5's sentence picker, fitted on the SciFact fit split's claims: extractive 4 chooses
 * the document (and the confidence); each candidate sentence of that document is a row, labelled
 * 1 when its cited bytes overlap an annotated rationale sentence.
 */
function fitPicker() {
  const fit = beirSplit("fit", trainQrels, (id) => inFit(id, 0.7));
  const { cases } = evalRun("scifact-fit", ["--beir", fit.dir, "--split", "fit"], 0);
  const rationales = new Map(
    withRationales(
      { corpus: join(fit.dir, "corpus.jsonl"), cases: cases.map((c) => ({ case_id: c.case_id })) },
      fit.rat,
      "fit",
    ).cases.map((c) => [c.case_id, c.rationales ?? {}]),
  );
  const data = [];
  let claims = 0;
  for (const c of cases) {
    const input = recordedReasonerInput(openRun(join(WORK, "artifacts", "runs", c.run_id)).view);
    if (typeof input === "string") throw new Error(`scifact-fit ${c.case_id}: ${input}`);
    const analysis = analyze(input);
    const best = scoreCandidates(input, analysis)[0];
    const spans = best === undefined ? [] : (rationales.get(c.case_id)?.[best.candidate.docId] ?? []);
    if (Object.keys(rationales.get(c.case_id) ?? {}).length > 0) claims++;
    if (spans.length === 0) continue;
    const span = (x) => {
      const ev = input.evidence.find((e) => e.id === x.evidenceId);
      return [ev.span[0] + x.citeStart, ev.span[0] + x.citeEnd];
    };
    const rows = pickerScores(best.candidate.docId, analysis.ranked, analysis.weights, input).map((s) => {
      const [a, b] = span(s.candidate);
      return {
        x: PICKER_FEATURES.map((f) => s.features[f]),
        y: spans.some(([lo, hi]) => a < hi && lo < b) ? 1 : 0,
      };
    });
    data.push({ id: c.case_id, rows, answered: best.probability >= DEFAULT_MIN_CONFIDENCE });
  }
  const fold = (d) => Math.floor(share(`picker/${d.id}`) * PICKER_FOLDS);
  const fitRows = (ds) =>
    fitLogistic(
      ds.flatMap((d) => d.rows.map((r) => r.x)),
      ds.flatMap((d) => d.rows.map((r) => r.y)),
      { l2: PICKER_L2 },
    );
  // The row a model picks: the highest score, on a tie the stronger (earlier) sentence.
  const pick = (m, d) => d.rows.reduce((a, r) => (linear(m, r.x) > linear(m, a.x) ? r : a));
  const picked = new Map();
  for (let k = 0; k < PICKER_FOLDS; k++) {
    const model = fitRows(data.filter((d) => fold(d) !== k));
    for (const d of data.filter((d) => fold(d) === k)) picked.set(d, pick(model, d).y);
  }
  const rate = (ds, hit) => r4(ds.filter(hit).length / ds.length);
  const answered = data.filter((d) => d.answered);
  const raw = fitRows(data);
  const result = {
    split: { salt: SPLIT_SALT, scifact_train_fit_share: 0.7 },
    claims_with_rationales: claims,
    claims_whose_chosen_document_has_rationales: data.length,
    sentence_rows: data.reduce((s, d) => s + d.rows.length, 0),
    rationale_rows: data.reduce((s, d) => s + d.rows.filter((r) => r.y === 1).length, 0),
    folds: PICKER_FOLDS,
    l2: PICKER_L2,
    rationale_hit_rate: {
      any_candidate_is_rationale: rate(data, (d) => d.rows.some((r) => r.y === 1)),
      extractive_4_strongest_sentence: rate(data, (d) => d.rows[0].y === 1),
      extractive_5_picker_out_of_fold: rate(data, (d) => picked.get(d) === 1),
      answered_at_default_threshold: {
        claims: answered.length,
        extractive_4_strongest_sentence: rate(answered, (d) => d.rows[0].y === 1),
        extractive_5_picker_out_of_fold: rate(answered, (d) => picked.get(d) === 1),
      },
    },
    model: {
      intercept: r4(raw.intercept),
      coefficients: Object.fromEntries(PICKER_FEATURES.map((f, j) => [f, r4(raw.coef[j])])),
    },
  };
  writeResult("fit-picker", result);
  console.log(JSON.stringify(result, null, 2));
}

/**
 * nDCG@10 with BEIR's linear gain (gain = grade), from the top 10 each case recorded: our
 * `ndcg_at_10` uses the exponential gain 2^grade - 1. The two agree on binary judgments.
 */
function linearNdcg(cases, qrelsFile) {
  const judgments = new Map();
  for (const line of readFileSync(qrelsFile, "utf8").split("\n").slice(1)) {
    const [q, d, g] = line.split("\t");
    if (q === undefined || q === "" || d === undefined) continue;
    if (!judgments.has(q)) judgments.set(q, new Map());
    judgments.get(q).set(d, Number(g));
  }
  const values = [];
  for (const c of cases) {
    const j = judgments.get(c.case_id);
    if (j === undefined || ![...j.values()].some((g) => g > 0)) continue;
    const dcg = c.retrieved.slice(0, 10).reduce((s, d, i) => s + (j.get(d) ?? 0) / Math.log2(i + 2), 0);
    const ideal = [...j.values()]
      .filter((g) => g > 0)
      .sort((a, b) => b - a)
      .slice(0, 10)
      .reduce((s, g, i) => s + g / Math.log2(i + 2), 0);
    values.push(dcg / ideal);
  }
  return r4(values.reduce((a, b) => a + b, 0) / values.length);
}

/** Per threshold: share of answerable cases answered, citation precision on them, unanswerable declined. */
function operatingPoints(cases) {
  const thresholds = [0.1, 0.15, 0.2, DEFAULT_MIN_CONFIDENCE, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
  return [...new Set(thresholds)]
    .sort((a, b) => a - b)
    .map((t) => {
      const ans = cases.filter((c) => c.answerable);
      const un = cases.filter((c) => !c.answerable);
      const answered = ans.filter((c) => c.status === "answered" && c.confidence >= t);
      const cp = answered.map((c) => c.metrics.citation_precision).filter((v) => v !== null);
      return {
        min_confidence: t,
        answerable_answered: ans.length === 0 ? null : r4(answered.length / ans.length),
        first_citation_precision:
          answered.length === 0
            ? null
            : r4(answered.filter((c) => c.metrics.correct === 1).length / answered.length),
        citation_precision: cp.length === 0 ? null : r4(cp.reduce((a, b) => a + b, 0) / cp.length),
        unanswerable_declined:
          un.length === 0
            ? null
            : r4(un.filter((c) => c.status !== "answered" || c.confidence < t).length / un.length),
      };
    });
}
