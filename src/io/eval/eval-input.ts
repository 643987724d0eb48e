/**
 * Evaluation inputs (docs/design.md §7): a suite folder (suite.json + problems.jsonl) or a BEIR folder
 * (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) read directly. Every bad line is reported
 * with file, line and field (exit 2).
 */
import { basename, join, resolve } from "node:path";
import * as z from "zod";
import { InputError } from "../../core/errors.js";
import type { Rationales } from "../../core/eval/metrics.js";
import { Constraints, Expected } from "../../core/models/spec.js";
import { findLoneSurrogate, loneSurrogateError } from "../../core/unicode.js";
import { zodToInputError } from "../../core/zod-errors.js";
import { readJsonLines, readUserJson, readUserText } from "../fs/user-text.js";

export interface EvalCase {
  case_id: string;
  description: string;
  constraints: z.infer<typeof Constraints>;
  expected: z.infer<typeof Expected>;
  /** Rationale sentences (byte spans of each document's text), when sentence-level judgments exist. */
  rationales?: Rationales;
  /** Where the case was defined, for errors found after loading (e.g. constraints that clash). */
  where?: { file: string; line: number };
}

export interface EvalInput {
  kind: "suite" | "beir";
  name: string;
  /** Absolute path of the corpus. */
  corpus: string;
  preset?: string;
  cases: EvalCase[];
}

const SuiteFile = z.strictObject({
  corpus: z.string().min(1),
  name: z.string().min(1),
  version: z.literal("1"),
  preset: z.string().optional(),
  constraints: Constraints.omit({ corpus: true }).optional(),
});

const ProblemLine = z.strictObject({
  case_id: z.string().min(1),
  description: z.string().trim().min(1),
  constraints: Constraints.omit({ corpus: true }).optional(),
  expected: Expected.optional(),
});

/** A suite, queries or qrels file: UTF-8 (a leading BOM stripped), a regular file only. */
function readText(path: string): string {
  return readUserText(path, "E_SUITE_INVALID");
}

export function loadSuite(dir: string): EvalInput {
  const suitePath = join(dir, "suite.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readText(suitePath));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError("E_SUITE_INVALID", "not valid JSON", { file: suitePath });
  }
  const bad = findLoneSurrogate(raw);
  if (bad !== undefined) {
    throw loneSurrogateError({
      file: suitePath,
      ...(bad === "" ? {} : { field: bad }),
    });
  }
  const suite = SuiteFile.safeParse(raw);
  if (!suite.success) throw zodToInputError(suite.error, "E_SUITE_INVALID", suitePath);
  const problemsPath = join(dir, "problems.jsonl");
  const seen = new Set<string>();
  const cases = readJsonLines(problemsPath, "E_SUITE_INVALID").map(({ line, value }) => {
    const parsed = ProblemLine.safeParse(value);
    if (!parsed.success) throw zodToInputError(parsed.error, "E_SUITE_INVALID", problemsPath, line);
    if (seen.has(parsed.data.case_id)) {
      throw new InputError("E_SUITE_INVALID", `duplicate case_id ${JSON.stringify(parsed.data.case_id)}`, {
        file: problemsPath,
        line,
        field: "case_id",
      });
    }
    seen.add(parsed.data.case_id);
    return {
      case_id: parsed.data.case_id,
      description: parsed.data.description,
      constraints: { ...suite.data.constraints, ...parsed.data.constraints },
      expected: parsed.data.expected ?? {},
      where: { file: problemsPath, line },
    };
  });
  if (cases.length === 0)
    throw new InputError("E_SUITE_INVALID", "the suite has no problems", { file: problemsPath });
  return {
    kind: "suite",
    name: suite.data.name,
    corpus: resolve(dir, suite.data.corpus),
    ...(suite.data.preset === undefined ? {} : { preset: suite.data.preset }),
    cases,
  };
}

const Query = z.object({ _id: z.string().min(1), text: z.string().min(1) });

export function loadBeir(dir: string, split: string): EvalInput {
  const qrelsPath = join(dir, "qrels", `${split}.tsv`);
  const judgments = new Map<string, Record<string, number>>();
  readText(qrelsPath)
    .split("\n")
    .forEach((text, i) => {
      if (i === 0 || text.trim() === "") return; // header: query-id corpus-id score
      const [qid, docId, score] = text.split("\t");
      const grade = Number(score);
      if (qid === undefined || docId === undefined || score === undefined || !Number.isFinite(grade)) {
        throw new InputError("E_SUITE_INVALID", "expected 'query-id<TAB>corpus-id<TAB>score'", {
          file: qrelsPath,
          line: i + 1,
        });
      }
      judgments.set(qid, { ...judgments.get(qid), [docId]: grade });
    });
  const queriesPath = join(dir, "queries.jsonl");
  // Only queries with judgments in this split are evaluated; the rest would count as nothing.
  const cases = readJsonLines(queriesPath, "E_SUITE_INVALID").flatMap(({ line, value }) => {
    const q = Query.safeParse(value);
    if (!q.success) throw zodToInputError(q.error, "E_SUITE_INVALID", queriesPath, line);
    const relevant = judgments.get(q.data._id);
    return relevant === undefined
      ? []
      : [{ case_id: q.data._id, description: q.data.text, constraints: {}, expected: { relevant } }];
  });
  if (cases.length === 0)
    throw new InputError("E_SUITE_INVALID", `no query has judgments in split "${split}"`, {
      file: qrelsPath,
    });
  return {
    kind: "beir",
    name: `${basename(resolve(dir))}-${split}`,
    corpus: resolve(dir, "corpus.jsonl"),
    cases,
  };
}

const Claim = z.object({
  id: z.union([z.string(), z.int()]),
  evidence: z.record(z.string(), z.array(z.object({ sentences: z.array(z.int().min(0)) }))),
});
const SentenceDoc = z.object({ doc_id: z.union([z.string(), z.int()]), abstract: z.array(z.string()) });

/**
 * Adds rationale sentences from the SciFact original layout (claims_<split>.jsonl + corpus.jsonl
 * with abstracts as sentence lists) to BEIR cases. Each sentence is located, in order, in the
 * BEIR document text, so its span is a byte range of exactly the text citations point into.
 */
export function withRationales(input: EvalInput, dir: string, split: string): EvalInput {
  const claimsPath = join(dir, `claims_${split}.jsonl`);
  const byCase = new Map<string, Record<string, number[]>>();
  for (const { line, value } of readJsonLines(claimsPath, "E_SUITE_INVALID")) {
    const claim = Claim.safeParse(value);
    if (!claim.success) throw zodToInputError(claim.error, "E_SUITE_INVALID", claimsPath, line);
    const sentences: Record<string, number[]> = {};
    for (const [doc, sets] of Object.entries(claim.data.evidence))
      sentences[doc] = sets.flatMap((s) => s.sentences);
    byCase.set(String(claim.data.id), sentences);
  }
  const wanted = new Set([...byCase.values()].flatMap((m) => Object.keys(m)));
  const sentencesPath = join(dir, "corpus.jsonl");
  const abstracts = new Map<string, string[]>();
  for (const { line, value } of readJsonLines(sentencesPath, "E_SUITE_INVALID")) {
    const doc = SentenceDoc.safeParse(value);
    if (!doc.success) throw zodToInputError(doc.error, "E_SUITE_INVALID", sentencesPath, line);
    if (wanted.has(String(doc.data.doc_id))) abstracts.set(String(doc.data.doc_id), doc.data.abstract);
  }
  const texts = new Map<string, string>();
  for (const { value } of readJsonLines(input.corpus, "E_SUITE_INVALID")) {
    const d = value as { _id?: unknown; doc_id?: unknown; text?: unknown };
    const id = String(d._id ?? d.doc_id);
    if (wanted.has(id) && typeof d.text === "string") texts.set(id, d.text);
  }
  const spansOf = (docId: string, indices: number[]): Array<[number, number]> => {
    const text = texts.get(docId);
    const sentences = abstracts.get(docId);
    if (text === undefined || sentences === undefined) return [];
    const spans: Array<[number, number]> = [];
    let from = 0;
    sentences.forEach((sentence, i) => {
      const at = text.indexOf(sentence.trim(), from);
      if (at < 0) return;
      from = at + sentence.trim().length;
      const start = Buffer.byteLength(text.slice(0, at), "utf8");
      if (indices.includes(i)) spans.push([start, start + Buffer.byteLength(sentence.trim(), "utf8")]);
    });
    return spans;
  };
  return {
    ...input,
    cases: input.cases.map((c) => {
      const sentences = byCase.get(c.case_id);
      if (sentences === undefined) return c;
      const rationales = Object.fromEntries(
        Object.entries(sentences).map(([doc, idx]) => [doc, spansOf(doc, idx)]),
      );
      return { ...c, rationales };
    }),
  };
}

// A baseline is user input: parse it fully, so a hand-edited or foreign file is an error,
// not a silently skipped metric.
const BaselineFile = z.object({
  suite: z.string(),
  metrics: z.record(z.string(), z.object({ mean: z.number().nullable(), cases: z.int().min(0) })),
});
export type BaselineFile = z.infer<typeof BaselineFile>;

export function readBaseline(path: string): BaselineFile {
  const parsed = BaselineFile.safeParse(readUserJson(path));
  if (!parsed.success) throw zodToInputError(parsed.error, "E_BASELINE_INVALID", path);
  return parsed.data;
}
