/**
 * Writes and reads an eval output folder (what `eval --out` writes: summary.json, cases.jsonl
 * and timings.json). Writing publishes the three files together (issue 19): they are staged in
 * a folder beside --out (`.staging-<name>-<pid>-<rand>`, the same file system) and that folder
 * is renamed into place, so a crash never pairs a new cases.jsonl with an old summary.json.
 * Reading serves `report --eval`, and a baseline that is either such a folder or a bare
 * summary.json. Both are user input: every bad line names its file, line and field (exit 2).
 * timings.json is volatile and only shown: absent or unusable, it is left out (null).
 */
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { InputError } from "../../core/errors.js";
import { EvalCaseLine, type EvalResults, EvalSummaryFile, EvalTimingsFile } from "../../core/eval/results.js";
import { zodToInputError } from "../../core/zod-errors.js";
import { atFsBoundary } from "../fs/fs-errors.js";
import { kindOf, readJsonLines, readUserJson } from "../fs/user-text.js";
import { readUntrustedJson } from "../runs/run-reader.js";
import { tempSuffix } from "../runs/run-writer.js";
import { sweepOnce, sweepStagingDebris } from "../store/debris.js";

const CODE = "E_EVAL_INVALID";

/** The files of an eval output folder. */
export const EVAL_FILES = { cases: "cases.jsonl", summary: "summary.json", timings: "timings.json" } as const;

/**
 * What an existing --out folder may hold besides the three files: `report --eval`'s default
 * page folder, carried over when the folder is replaced. Anything else is not eval output, and
 * replacing the folder would remove it: such a folder is refused before any case runs.
 */
const CARRIED_OVER = new Set(["report"]);
const OWN = new Set<string>([...Object.values(EVAL_FILES), ...CARRIED_OVER]);
const OUTPUT = (out: string) =>
  ({ code: "E_OUTPUT", doing: "cannot write results", path: out, field: "--out" }) as const;

/**
 * Checks --out before any case runs: absent (its parent is made), or a folder holding only
 * eval output. Sweeps stale staging folders a killed eval left beside it.
 */
export function prepareEvalOutputFolder(out: string): void {
  atFsBoundary(OUTPUT(out), () => {
    mkdirSync(dirname(out), { recursive: true });
    sweepOnce(`staging:${dirname(out)}`, () => sweepStagingDebris(dirname(out)));
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(out);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    if (!stat.isDirectory())
      throw new InputError(
        "E_OUTPUT",
        `${stat.isFile() ? "a file" : kindOf(stat)} is in the way of the output folder`,
        {
          file: out,
          field: "--out",
        },
      );
    const other = readdirSync(out).filter((name) => !OWN.has(name));
    if (other.length > 0)
      throw new InputError(
        "E_OUTPUT",
        `holds ${other.length} entr${other.length === 1 ? "y" : "ies"} that are not eval output (${other.slice(0, 3).join(", ")}): eval replaces the folder as a whole; give an empty or new folder`,
        { file: out, field: "--out" },
      );
  });
}

/**
 * Publishes the three files as one: written into a staging folder beside `out`, which is then
 * renamed to `out` (one rename; an existing `out` is first moved aside, its carried-over
 * entries moved into the new one, and the rest removed).
 */
export function publishEvalOutput(out: string, files: Readonly<Record<string, string>>): void {
  atFsBoundary(OUTPUT(out), () => {
    const parent = dirname(out);
    const staging = join(parent, `.staging-${basename(out)}-${tempSuffix()}`);
    try {
      mkdirSync(staging, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(join(staging, name), text);
      let old: string | undefined;
      try {
        if (lstatSync(out).isDirectory()) {
          old = join(parent, `.staging-${basename(out)}-${tempSuffix()}`);
          renameSync(out, old);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      renameSync(staging, out);
      if (old !== undefined) {
        for (const name of readdirSync(old))
          if (CARRIED_OVER.has(name)) renameSync(join(old, name), join(out, name));
        rmSync(old, { recursive: true, force: true });
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  });
}

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
