/**
 * Reads an eval output folder (what `eval --out` writes: summary.json, cases.jsonl and
 * timings.json) for `report --eval`, and a baseline that is either such a folder or a bare
 * summary.json. Both are user input: every bad line names its file, line and field (exit 2).
 * timings.json is volatile and only shown: absent or unusable, it is left out (null).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../core/errors.js";
import { EvalCaseLine, type EvalResults, EvalSummaryFile, EvalTimingsFile } from "../core/eval/results.js";
import { zodToInputError } from "../core/zod-errors.js";
import { atFsBoundary } from "./fs-errors.js";
import { readUntrustedJson } from "./run-reader.js";
import { kindOf, readJsonLines, readUserJson } from "./text.js";

const CODE = "E_EVAL_INVALID";

/** The files of an eval output folder. */
export const EVAL_FILES = { cases: "cases.jsonl", summary: "summary.json", timings: "timings.json" } as const;

function isFolder(path: string, field: string): boolean {
  const stat = atFsBoundary({ code: CODE, doing: "cannot read", path, field }, () => statSync(path));
  if (stat.isDirectory()) return true;
  if (stat.isFile()) return false;
  throw new InputError(CODE, `${kindOf(stat)}, not an eval output folder`, { file: path, field });
}

function readSummary(path: string) {
  const parsed = EvalSummaryFile.safeParse(readUserJson(path, CODE));
  if (!parsed.success) throw zodToInputError(parsed.error, CODE, path);
  return parsed.data;
}

function readCases(path: string): EvalCaseLine[] {
  const cases: EvalCaseLine[] = [];
  const seen = new Set<string>();
  for (const { line, value } of readJsonLines(path, CODE)) {
    const where = { file: path, line };
    const parsed = EvalCaseLine.safeParse(value);
    if (!parsed.success) throw zodToInputError(parsed.error, CODE, path, where.line);
    if (seen.has(parsed.data.case_id))
      throw new InputError(CODE, `duplicate case_id ${JSON.stringify(parsed.data.case_id)}`, where);
    seen.add(parsed.data.case_id);
    cases.push(parsed.data);
  }
  return cases;
}

/** An eval output folder: summary.json and cases.jsonl, both required; timings.json when usable. */
export function readEvalResults(dir: string, field = "DIR"): EvalResults {
  if (!isFolder(dir, field))
    throw new InputError(CODE, "a file, not an eval output folder", { file: dir, field });
  return {
    summary: readSummary(join(dir, EVAL_FILES.summary)),
    cases: readCases(join(dir, EVAL_FILES.cases)),
    timings: readUntrustedJson(join(dir, EVAL_FILES.timings), EvalTimingsFile),
  };
}

/** A baseline: an eval output folder (metrics and cases compared) or a summary.json (metrics only). */
export function readEvalBaseline(path: string): Pick<EvalResults, "summary"> & {
  cases: EvalCaseLine[] | null;
} {
  if (isFolder(path, "--baseline")) return readEvalResults(path, "--baseline");
  return { summary: readSummary(path), cases: null };
}
